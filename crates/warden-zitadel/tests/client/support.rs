//! A simulator per test, and clients pointed at it.

use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use time::macros::datetime;
use warden_zitadel::{ClientOptions, Credential, RetryPolicy, ZitadelClient};
use zitadel_sim::{Control, Estate, Simulator, SimulatorOptions};

pub const ADMIN_PAT: &str = "warden-admin-pat-for-tests";

/// The simulated estates' `now`: fixed, so every run sees the same story.
pub fn now() -> OffsetDateTime {
    datetime!(2026-11-01 12:00 UTC)
}

pub struct Sim {
    simulator: Simulator,
}

impl Sim {
    pub async fn seed() -> Sim {
        Sim::start(Estate::seed(now()), |_| {}).await
    }

    pub async fn start(estate: Estate, configure: impl FnOnce(&mut SimulatorOptions)) -> Sim {
        let mut options = SimulatorOptions::new(estate, ADMIN_PAT);
        configure(&mut options);
        let simulator = Simulator::start(options, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        Sim { simulator }
    }

    pub fn control(&self) -> &Control {
        self.simulator.control()
    }

    pub fn base_url(&self) -> String {
        self.simulator.base_url()
    }
}

/// Retries that do not make tests slow.
pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    }
}

/// No rate limit, fast retries, short timeouts: the simulator is on loopback.
pub fn options_for(sim: &Sim, credential: Credential) -> ClientOptions {
    let mut options = ClientOptions::new(sim.base_url(), credential);
    options.rate_limit = 0;
    options.timeout = Duration::from_secs(5);
    options.retry = fast_retries(3);
    options
}

pub fn client_for(sim: &Sim, credential: Credential) -> ZitadelClient {
    ZitadelClient::new(options_for(sim, credential)).unwrap()
}

pub fn admin_client(sim: &Sim) -> ZitadelClient {
    client_for(sim, Credential::PersonalAccessToken(SecretString::from(ADMIN_PAT)))
}
