//! What a schema is made of: attribute definitions with their characteristics, schemas, resource types, and where
//! a resolved attribute path points.

/// The data type of an attribute (RFC 7643 section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// A Unicode string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An RFC 3339 instant, compared as an instant.
    DateTime,
    /// A URI string.
    Reference,
    /// A structured value made of sub-attributes.
    Complex,
    /// Base64-encoded bytes, compared case-exactly.
    Binary,
}

impl AttributeType {
    /// The keyword used in `/Schemas` output.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
            AttributeType::Decimal => "decimal",
            AttributeType::Integer => "integer",
            AttributeType::DateTime => "dateTime",
            AttributeType::Reference => "reference",
            AttributeType::Complex => "complex",
            AttributeType::Binary => "binary",
        }
    }
}

/// Whether and when an attribute may be written (RFC 7643 section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Freely writable.
    ReadWrite,
    /// Writable while unassigned; cannot change once set.
    Immutable,
    /// Writable but never returned.
    WriteOnly,
}

impl Mutability {
    /// The keyword used in `/Schemas` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in responses (RFC 7643 section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    /// Always returned, even when `attributes` names others or `excludedAttributes` names it.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded or unless `attributes` names others.
    Default,
    /// Returned only when named in `attributes`.
    Request,
}

impl Returned {
    /// The keyword used in `/Schemas` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique an attribute's value is (RFC 7643 section 7). Enforcing it is the server's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    /// No uniqueness.
    None,
    /// Unique within the service provider (warden: within the SCIM tenant).
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The keyword used in `/Schemas` output.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute or sub-attribute definition (RFC 7643 section 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    /// The attribute name, in its canonical case.
    pub name: String,
    /// The data type.
    pub attribute_type: AttributeType,
    /// Whether the value is a JSON array of values.
    pub multi_valued: bool,
    /// Human-readable description.
    pub description: String,
    /// Whether a resource must carry the attribute.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Whether and when the attribute may be written.
    pub mutability: Mutability,
    /// When the attribute is returned.
    pub returned: Returned,
    /// How unique the value must be.
    pub uniqueness: Uniqueness,
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: Vec<AttributeDefinition>,
    /// Suggested values (for example `work`, `home`); advisory, not enforced.
    pub canonical_values: Vec<String>,
    /// For references: the resource types or `external` / `uri` it may point at.
    pub reference_types: Vec<String>,
    /// The most characters (Unicode scalar values) a string, reference or binary value may have; advertised in the
    /// `/Schemas` description. Values that are keys of the store's indexes (userName, externalId, displayName, an
    /// email address, a member's id) have [`MAX_KEY_LENGTH`], other text [`MAX_TEXT_LENGTH`], binary values
    /// [`MAX_BINARY_LENGTH`].
    pub max_length: Option<usize>,
}

/// The longest value, in characters, of an attribute the server looks resources up by (userName, externalId,
/// displayName, an email address, a member's id): 256 characters are at most 1,024 bytes, well inside what a
/// database index entry may hold (PostgreSQL's btree: 2,704 bytes).
pub const MAX_KEY_LENGTH: usize = 256;
/// The longest value, in characters, of any other string or reference attribute.
pub const MAX_TEXT_LENGTH: usize = 2_048;
/// The longest value, in characters, of a binary attribute (base64; an X.509 certificate).
pub const MAX_BINARY_LENGTH: usize = 16_384;

impl AttributeDefinition {
    /// A single-valued, optional, case-insensitive, readWrite attribute returned by default; refine it with the
    /// builder methods.
    pub fn new(name: &str, attribute_type: AttributeType) -> Self {
        AttributeDefinition {
            name: name.to_owned(),
            attribute_type,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            sub_attributes: Vec::new(),
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            max_length: match attribute_type {
                AttributeType::String | AttributeType::Reference => Some(MAX_TEXT_LENGTH),
                AttributeType::Binary => Some(MAX_BINARY_LENGTH),
                _ => None,
            },
        }
    }

    /// Sets the most characters a value may have.
    pub fn max_length(mut self, max_length: usize) -> Self {
        self.max_length = Some(max_length);
        self
    }

    /// Marks the attribute multi-valued.
    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }

    /// Marks the attribute required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks string comparisons case-sensitive.
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Sets the `returned` characteristic.
    pub fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// Sets the uniqueness.
    pub fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// Sets the sub-attributes of a complex attribute.
    pub fn sub_attributes(mut self, sub_attributes: Vec<AttributeDefinition>) -> Self {
        self.sub_attributes = sub_attributes;
        self
    }

    /// Sets the canonical values.
    pub fn canonical_values(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|value| (*value).to_owned()).collect();
        self
    }

    /// Sets the reference types.
    pub fn reference_types(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|value| (*value).to_owned()).collect();
        self
    }

    /// The sub-attribute with this name, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.sub_attributes.iter().find(|sub| sub.name.eq_ignore_ascii_case(name))
    }
}

/// A schema: a URN id and its attribute definitions (RFC 7643 section 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The schema URN, e.g. [`USER_SCHEMA`].
    pub id: String,
    /// Human-readable name, e.g. `User`.
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Top-level attribute definitions (common attributes `id`, `externalId` and `meta` are not listed here).
    pub attributes: Vec<AttributeDefinition>,
}

impl Schema {
    /// The top-level attribute with this name, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes.iter().find(|attribute| attribute.name.eq_ignore_ascii_case(name))
    }
}

/// A schema extension attached to a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema URN.
    pub schema: String,
    /// Whether every resource of the type must carry the extension.
    pub required: bool,
}

/// A resource type (RFC 7643 section 6): the endpoint, its core schema and its extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// The resource type id and name, e.g. `User`.
    pub name: String,
    /// The endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    /// Human-readable description.
    pub description: String,
    /// The core schema URN.
    pub schema: String,
    /// Extension schemas.
    pub schema_extensions: Vec<SchemaExtension>,
}

/// Where an attribute path points, once resolved against a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttribute<'a> {
    /// The schema that defines the attribute.
    pub schema: &'a Schema,
    /// Whether that schema is an extension, whose attributes live under the schema URN key of the resource.
    pub is_extension: bool,
    /// The top-level attribute definition.
    pub attribute: &'a AttributeDefinition,
    /// The sub-attribute definition, when the path names one.
    pub sub_attribute: Option<&'a AttributeDefinition>,
}
