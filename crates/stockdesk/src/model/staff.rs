//! Staff profiles, roles and what each role may do. The rules that map a command to the
//! permissions it needs live in `staff::rules`; these are the words they are written in, shared
//! with the UI (which hides or disables what the signed-in role cannot do, from this list, never
//! from rules of its own).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A person's role. Each role may do everything the one below it may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    Manager,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Staff, Role::Manager, Role::Owner]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// Whether a person of this role may do `p`.
    pub fn allows(self, p: Permission) -> bool {
        self >= p.least_role()
    }

    /// Everything this role may do.
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One kind of thing a person may or may not do. A command needs one or more of these (an edit
/// needs those of the fields it touches).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Create, pay, cancel and extend orders (sell and hold).
    Sell,
    /// Record goods that arrived.
    ReceiveStock,
    /// Record a stock count.
    CountStock,
    /// A product's description, and its images' alt texts, order and thumbnail.
    EditDescriptions,
    /// Add, replace and remove a product's images.
    EditImages,
    /// Create products and categories; names, slugs, status, category, SKUs, attributes,
    /// variants' order, new variants.
    EditCatalog,
    /// Prices and currencies.
    EditPrices,
    /// Delete variants, archive products.
    Delete,
    /// Bring back an old version of a product.
    Restore,
    /// Correct stock with a reason, or set the figure in the editor.
    AdjustStock,
    /// Bring many products in at once (imports, the demo catalog).
    Import,
    /// Add and remove staff profiles.
    ManageStaff,
    /// Allot units to terminals, revoke allotments, set the policy and "sell anyway", settle
    /// oversell exceptions.
    ManageAllotments,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::Sell,
        Permission::ReceiveStock,
        Permission::CountStock,
        Permission::EditDescriptions,
        Permission::EditImages,
        Permission::EditCatalog,
        Permission::EditPrices,
        Permission::Delete,
        Permission::Restore,
        Permission::AdjustStock,
        Permission::Import,
        Permission::ManageStaff,
        Permission::ManageAllotments,
    ];

    /// The least role that may do this.
    pub fn least_role(self) -> Role {
        match self {
            Permission::Sell
            | Permission::ReceiveStock
            | Permission::CountStock
            | Permission::EditDescriptions
            | Permission::EditImages => Role::Staff,
            Permission::EditCatalog
            | Permission::EditPrices
            | Permission::Delete
            | Permission::Restore
            | Permission::AdjustStock
            | Permission::Import
            | Permission::ManageAllotments => Role::Manager,
            Permission::ManageStaff => Role::Owner,
        }
    }

    /// What a person reads ("change prices").
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Sell => "sell and hold orders",
            Permission::ReceiveStock => "receive stock",
            Permission::CountStock => "count stock",
            Permission::EditDescriptions => "edit descriptions",
            Permission::EditImages => "change images",
            Permission::EditCatalog => "change the catalog",
            Permission::EditPrices => "change prices",
            Permission::Delete => "delete or archive",
            Permission::Restore => "restore old versions",
            Permission::AdjustStock => "adjust stock",
            Permission::Import => "import products",
            Permission::ManageStaff => "manage staff profiles",
            Permission::ManageAllotments => "manage terminal allotments",
        }
    }
}

/// A person who works in the shop. The PIN's hash never leaves the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StaffProfile {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Until when wrong PINs keep this profile from signing in.
    pub locked_until: Option<DateTime<Utc>>,
    /// When it was removed (it can no longer act; history keeps its name).
    pub removed_at: Option<DateTime<Utc>>,
}

/// A profile to add (the JSON of an `add_staff` command). The PIN travels only as its hash:
/// `Stockdesk::add_staff` makes it from the PIN a person typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Made from the command's op id when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub name: String,
    pub role: Role,
    /// An Argon2id PHC string (`$argon2id$v=19$…`).
    pub pin_hash: String,
}

/// Who is signed in at this handle, and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Session {
    /// None in a shop without profiles (whoever runs it acts as its owner) or when nobody is
    /// signed in.
    pub profile: Option<StaffProfile>,
    /// The name recorded on what this handle writes.
    pub actor: String,
    /// Whether the shop has any profile yet (if not, the app offers to make the owner's).
    pub shop_has_profiles: bool,
    pub permissions: Vec<Permission>,
    /// What this person may not do, each with the least role that may: the app disables those
    /// controls and says why ("prices need a manager") without rules of its own.
    pub withheld: Vec<Withheld>,
}

/// A permission the signed-in person lacks, and who has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct Withheld {
    pub permission: Permission,
    pub needs: Role,
}

/// A sign-in, a wrong PIN or a lockout, as the owner reads them.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct StaffEvent {
    pub staff_id: Uuid,
    pub name: String,
    pub kind: StaffEventKind,
    /// The terminal it happened at.
    pub terminal: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum StaffEventKind {
    SignedIn,
    WrongPin,
    /// The fifth wrong PIN in a row: the profile is locked for a while.
    LockedOut,
    /// A sign-in tried while locked (not checked, not counted).
    RefusedLocked,
}

impl StaffEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffEventKind::SignedIn => "signed_in",
            StaffEventKind::WrongPin => "wrong_pin",
            StaffEventKind::LockedOut => "locked_out",
            StaffEventKind::RefusedLocked => "refused_locked",
        }
    }

    pub fn parse(s: &str) -> Option<StaffEventKind> {
        [
            StaffEventKind::SignedIn,
            StaffEventKind::WrongPin,
            StaffEventKind::LockedOut,
            StaffEventKind::RefusedLocked,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Why a command or a sign-in was refused (the `forbidden` error's details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The shop has profiles and nobody is signed in.
    NotSignedIn,
    /// The person's role may not do this.
    Role {
        role: Role,
        needs: Role,
        permission: Permission,
    },
    /// The profile was removed.
    Removed,
    /// The PIN was wrong; this many tries are left before the profile locks.
    WrongPin { attempts_left: i64 },
    /// Too many wrong PINs: no sign-in until then.
    Locked { until: DateTime<Utc> },
    /// A handle applies only its own person's commands.
    NotYours,
}
