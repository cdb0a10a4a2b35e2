//! What `warden serve` answers beside SCIM (issue #15): request ids kept when plain and made otherwise, and
//! `/readyz` failing while the database lacks migrations or the scheduler has stopped. In process, on SQLite.

use std::sync::Arc;

use sqlx::Connection;
use warden::app::{App, Settings, SystemClock};
use warden::config::{Config, DatabaseUrl};
use warden::store;

async fn serve(app: &App) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(warden::server::serve(listener, warden::server::build(app), std::future::pending()));
    address
}

async fn app_on(url: &DatabaseUrl) -> App {
    let store = store::open_and_migrate(url).await.unwrap();
    App::new(Settings::from_config(&Config::default()).unwrap(), store, Arc::new(SystemClock))
}

fn is_generated(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|character| *character == '-').count() == 4
}

#[tokio::test]
async fn a_plain_request_id_is_returned_and_any_other_replaced() {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let address = serve(&app_on(&url).await).await;
    let client = reqwest::Client::new();
    let id_of = async |sent: Option<&str>| {
        let mut request = client.get(format!("{address}/healthz"));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status().as_u16(), 200);
        reply.headers()["x-request-id"].to_str().unwrap().to_owned()
    };
    assert_eq!(id_of(Some("trace-42.a:b_c")).await, "trace-42.a:b_c");
    assert!(is_generated(&id_of(None).await));
    for unusable in ["has space", "quote\"", "semi;colon", &"x".repeat(129)] {
        let returned = id_of(Some(unusable)).await;
        assert!(is_generated(&returned), "{unusable:?} came back as {returned:?}");
    }
}

#[tokio::test]
async fn readiness_fails_while_migrations_are_behind_or_the_scheduler_has_stopped() {
    let directory = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::new(format!("sqlite://{}", directory.path().join("warden.db").display()));
    let app = app_on(&url).await;
    let address = serve(&app).await;
    let client = reqwest::Client::new();
    let ready = async || {
        let reply = client.get(format!("{address}/readyz")).send().await.unwrap();
        (reply.status().as_u16(), reply.text().await.unwrap())
    };
    assert_eq!(ready().await, (200, "ready".to_owned()));

    app.set_scheduler_running(true);
    assert_eq!(ready().await.0, 200);
    app.set_scheduler_running(false);
    assert_eq!(ready().await, (503, "scheduler stopped".to_owned()));
    app.set_scheduler_running(true);
    assert_eq!(ready().await.0, 200);

    // An older build's database: the newest migration is not recorded as applied.
    let mut connection = sqlx::SqliteConnection::connect(url.expose()).await.unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();
    assert_eq!(ready().await, (503, "database migrations behind".to_owned()));
}
