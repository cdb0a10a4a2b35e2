//! The standard schemas of RFC 7643 section 8.7.1 as data.

use crate::schema::{
    AttributeDefinition, AttributeType, MAX_KEY_LENGTH, Mutability, ResourceType, Returned, Schema, SchemaExtension,
    Uniqueness,
};

/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The Enterprise User extension schema URN.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn string(name: &str, description: &str) -> AttributeDefinition {
    AttributeDefinition::new(name, AttributeType::String).description(description)
}

fn primary() -> AttributeDefinition {
    AttributeDefinition::new("primary", AttributeType::Boolean).description(
        "A Boolean value indicating the 'primary' or preferred attribute value. Only one value may be primary.",
    )
}

fn display() -> AttributeDefinition {
    string("display", "A human-readable name, primarily used for display purposes.")
}

/// A multi-valued complex attribute with the usual `value`, `display`, `type` and `primary` sub-attributes.
fn multi_valued_with_value(
    name: &str,
    description: &str,
    value: AttributeDefinition,
    canonical_types: &[&str],
) -> AttributeDefinition {
    AttributeDefinition::new(name, AttributeType::Complex).multi_valued().description(description).sub_attributes(vec![
        value,
        display(),
        string("type", "A label indicating the attribute's function.").canonical_values(canonical_types),
        primary(),
    ])
}

pub(crate) fn common_attributes() -> Schema {
    Schema {
        id: "urn:ietf:params:scim:schemas:common:2.0".to_owned(),
        name: "Common".to_owned(),
        description: "Attributes common to every resource (RFC 7643 section 3.1).".to_owned(),
        attributes: vec![
            string("id", "Unique identifier assigned by the service provider.")
                .case_exact()
                .mutability(Mutability::ReadOnly)
                .returned(Returned::Always)
                .uniqueness(Uniqueness::Server),
            string("externalId", "Identifier assigned by the provisioning client.")
                .case_exact()
                .max_length(MAX_KEY_LENGTH),
            AttributeDefinition::new("meta", AttributeType::Complex)
                .description("Resource metadata.")
                .mutability(Mutability::ReadOnly)
                .sub_attributes(vec![
                    string("resourceType", "The resource type name.").case_exact().mutability(Mutability::ReadOnly),
                    AttributeDefinition::new("created", AttributeType::DateTime)
                        .description("When the resource was added.")
                        .mutability(Mutability::ReadOnly),
                    AttributeDefinition::new("lastModified", AttributeType::DateTime)
                        .description("When the resource was last changed.")
                        .mutability(Mutability::ReadOnly),
                    AttributeDefinition::new("location", AttributeType::Reference)
                        .description("The URI of the resource.")
                        .case_exact()
                        .mutability(Mutability::ReadOnly)
                        .reference_types(&["uri"]),
                    string("version", "The version (ETag) of the resource.")
                        .case_exact()
                        .mutability(Mutability::ReadOnly),
                ]),
        ],
    }
}

pub(crate) fn user_schema() -> Schema {
    let name = AttributeDefinition::new("name", AttributeType::Complex)
        .description("The components of the user's real name.")
        .sub_attributes(vec![
            string("formatted", "The full name, formatted for display."),
            string("familyName", "The family name."),
            string("givenName", "The given name."),
            string("middleName", "The middle name(s)."),
            string("honorificPrefix", "The honorific prefix, e.g. 'Ms.'."),
            string("honorificSuffix", "The honorific suffix, e.g. 'III'."),
        ]);
    let addresses = AttributeDefinition::new("addresses", AttributeType::Complex)
        .multi_valued()
        .description("Physical mailing addresses.")
        .sub_attributes(vec![
            string("formatted", "The full mailing address, formatted for display."),
            string("streetAddress", "The full street address."),
            string("locality", "The city or locality."),
            string("region", "The state or region."),
            string("postalCode", "The zip code or postal code."),
            string("country", "The country name (ISO 3166-1 alpha-2)."),
            string("type", "A label indicating the address's function.").canonical_values(&["work", "home", "other"]),
            primary(),
        ]);
    let groups = AttributeDefinition::new("groups", AttributeType::Complex)
        .multi_valued()
        .description("The groups the user belongs to, maintained by the service provider.")
        .mutability(Mutability::ReadOnly)
        .sub_attributes(vec![
            string("value", "The identifier of the group.").mutability(Mutability::ReadOnly),
            AttributeDefinition::new("$ref", AttributeType::Reference)
                .description("The URI of the group.")
                .mutability(Mutability::ReadOnly)
                .reference_types(&["User", "Group"]),
            display().mutability(Mutability::ReadOnly),
            string("type", "Direct or indirect membership.")
                .mutability(Mutability::ReadOnly)
                .canonical_values(&["direct", "indirect"]),
        ]);
    Schema {
        id: USER_SCHEMA.to_owned(),
        name: "User".to_owned(),
        description: "User Account".to_owned(),
        attributes: vec![
            string("userName", "Unique identifier for the user, used to sign in.")
                .required()
                .uniqueness(Uniqueness::Server)
                .max_length(MAX_KEY_LENGTH),
            name,
            string("displayName", "The name of the user, suitable for display.").max_length(MAX_KEY_LENGTH),
            string("nickName", "The casual way to address the user."),
            AttributeDefinition::new("profileUrl", AttributeType::Reference)
                .description("A URI of the user's online profile.")
                .reference_types(&["external"]),
            string("title", "The user's title, e.g. 'Vice President'."),
            string("userType", "The relationship between the organization and the user."),
            string("preferredLanguage", "The user's preferred written or spoken language."),
            string("locale", "The user's default location."),
            string("timezone", "The user's time zone in IANA format."),
            AttributeDefinition::new("active", AttributeType::Boolean).description("The user's administrative status."),
            string("password", "The user's cleartext password, never returned.")
                .mutability(Mutability::WriteOnly)
                .returned(Returned::Never),
            multi_valued_with_value(
                "emails",
                "Email addresses for the user.",
                string("value", "The email address.").max_length(MAX_KEY_LENGTH),
                &["work", "home", "other"],
            ),
            multi_valued_with_value(
                "phoneNumbers",
                "Phone numbers for the user.",
                string("value", "The phone number."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_valued_with_value(
                "ims",
                "Instant messaging addresses for the user.",
                string("value", "The instant messaging address."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_valued_with_value(
                "photos",
                "URLs of photos of the user.",
                AttributeDefinition::new("value", AttributeType::Reference)
                    .description("The URL of the photo.")
                    .reference_types(&["external"]),
                &["photo", "thumbnail"],
            ),
            addresses,
            groups,
            multi_valued_with_value(
                "entitlements",
                "Entitlements of the user.",
                string("value", "The entitlement."),
                &[],
            ),
            multi_valued_with_value("roles", "Roles of the user.", string("value", "The role."), &[]),
            multi_valued_with_value(
                "x509Certificates",
                "X.509 certificates of the user.",
                AttributeDefinition::new("value", AttributeType::Binary).description("The DER certificate, base64."),
                &[],
            ),
        ],
    }
}

pub(crate) fn enterprise_user_schema() -> Schema {
    Schema {
        id: ENTERPRISE_USER_SCHEMA.to_owned(),
        name: "EnterpriseUser".to_owned(),
        description: "Enterprise User".to_owned(),
        attributes: vec![
            string("employeeNumber", "Identifier of the user within the organization."),
            string("costCenter", "Name of a cost center."),
            string("organization", "Name of an organization."),
            string("division", "Name of a division."),
            string("department", "Name of a department."),
            AttributeDefinition::new("manager", AttributeType::Complex)
                .description("The user's manager.")
                .sub_attributes(vec![
                    string("value", "The id of the manager's User resource."),
                    AttributeDefinition::new("$ref", AttributeType::Reference)
                        .description("The URI of the manager's User resource.")
                        .reference_types(&["User"]),
                    string("displayName", "The manager's display name.").mutability(Mutability::ReadOnly),
                ]),
        ],
    }
}

pub(crate) fn group_schema() -> Schema {
    Schema {
        id: GROUP_SCHEMA.to_owned(),
        name: "Group".to_owned(),
        description: "Group".to_owned(),
        attributes: vec![
            string("displayName", "A human-readable name for the group.").required().max_length(MAX_KEY_LENGTH),
            AttributeDefinition::new("members", AttributeType::Complex)
                .multi_valued()
                .description("The members of the group.")
                .sub_attributes(vec![
                    string("value", "The id of the member resource.")
                        .case_exact()
                        .mutability(Mutability::Immutable)
                        .max_length(MAX_KEY_LENGTH),
                    AttributeDefinition::new("$ref", AttributeType::Reference)
                        .description("The URI of the member resource.")
                        .mutability(Mutability::Immutable)
                        .reference_types(&["User", "Group"]),
                    display().mutability(Mutability::Immutable),
                    string("type", "The type of the member resource.")
                        .mutability(Mutability::Immutable)
                        .canonical_values(&["User", "Group"]),
                ]),
        ],
    }
}

pub(crate) fn user_resource_type() -> ResourceType {
    ResourceType {
        name: "User".to_owned(),
        endpoint: "/Users".to_owned(),
        description: "User Account".to_owned(),
        schema: USER_SCHEMA.to_owned(),
        schema_extensions: vec![SchemaExtension { schema: ENTERPRISE_USER_SCHEMA.to_owned(), required: false }],
    }
}

pub(crate) fn group_resource_type() -> ResourceType {
    ResourceType {
        name: "Group".to_owned(),
        endpoint: "/Groups".to_owned(),
        description: "Group".to_owned(),
        schema: GROUP_SCHEMA.to_owned(),
        schema_extensions: Vec::new(),
    }
}
