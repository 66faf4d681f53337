//! Who is working at this terminal: the staff profile signed in (a core handle acting as that
//! person), whether the terminal is locked, and after how long without input it locks. PINs,
//! lockouts and what each role may do are the core's rules; this only holds the handle.
//!
//! Locking keeps the person's handle (their open editor stays theirs, and presence keeps their
//! name) but refuses writes until someone signs in again. Switching databases signs out.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use stockdesk::model::{Refusal, Session};
use stockdesk::{ApiError, Error, Stockdesk};

use crate::connection::{load_settings, save_settings, Connection};

/// Minutes without input before a signed-in terminal locks, unless the settings say otherwise.
pub const DEFAULT_IDLE_MINUTES: u32 = 5;
/// The longest idle time the settings accept (a working day).
const MAX_IDLE_MINUTES: u32 = 12 * 60;

/// Who is signed in at this terminal, as the UI shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SignInState {
    /// The core's view: the person, what they may do and what not (and who may).
    pub session: Session,
    /// The terminal is locked: the person stays, but nothing is written until someone signs in.
    pub locked: bool,
}

/// This terminal's lock settings (kept in settings.json beside the database URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct LockSettings {
    /// Minutes without input before the app locks; 0 never locks.
    pub idle_minutes: u32,
}

/// The signed-in person's handle, shared by the commands.
#[derive(Default)]
pub struct SignIn {
    state: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    person: Option<Stockdesk>,
    locked: bool,
}

impl SignIn {
    /// The handle a write goes through: the signed-in person's, or the terminal's own when
    /// nobody is (the core lets that act as the owner only in a shop without profiles). Refused
    /// while the terminal is locked.
    pub fn acting(&self, conn: &Connection) -> Result<Stockdesk, ApiError> {
        let held = self.state.lock().expect("sign-in lock");
        if held.locked {
            return Err(Error::Forbidden {
                message: "this terminal is locked: sign in again to go on".into(),
                refusal: Refusal::NotSignedIn,
            }
            .to_api());
        }
        match &held.person {
            Some(person) => Ok(person.clone()),
            None => conn.core(),
        }
    }

    /// The handle that says who is here (the session, presence): the person's, also while the
    /// terminal is locked.
    pub fn current(&self, conn: &Connection) -> Result<Stockdesk, ApiError> {
        let person = self.state.lock().expect("sign-in lock").person.clone();
        person.map_or_else(|| conn.core(), Ok)
    }

    /// Who is signed in now and what they may do (read fresh from the shop).
    pub async fn state(&self, conn: &Connection) -> Result<SignInState, ApiError> {
        let session = self.current(conn)?.session().await?;
        let locked = self.state.lock().expect("sign-in lock").locked;
        Ok(SignInState { session, locked })
    }

    /// Checks the PIN of `name` in the core (wrong PINs are counted there) and, if right, makes
    /// that person the one working here, unlocked.
    pub async fn sign_in(
        &self,
        conn: &Connection,
        name: &str,
        pin: &str,
    ) -> Result<SignInState, ApiError> {
        let person = conn.core()?.sign_in(name, pin).await?;
        *self.state.lock().expect("sign-in lock") = Held {
            person: Some(person),
            locked: false,
        };
        self.state(conn).await
    }

    /// Nobody is signed in any more (also after switching databases).
    pub fn sign_out(&self) {
        *self.state.lock().expect("sign-in lock") = Held::default();
    }

    /// Locks the terminal if someone is signed in (a shop without profiles has nobody to lock).
    pub fn lock(&self) {
        let mut held = self.state.lock().expect("sign-in lock");
        held.locked = held.person.is_some();
    }
}

/// The terminal's lock settings.
pub fn lock_settings(conn: &Connection) -> LockSettings {
    LockSettings {
        idle_minutes: load_settings(conn.data_dir())
            .idle_lock_minutes
            .unwrap_or(DEFAULT_IDLE_MINUTES),
    }
}

/// Remembers new lock settings in the settings file.
pub fn set_lock_settings(
    conn: &Connection,
    wanted: LockSettings,
) -> Result<LockSettings, ApiError> {
    if wanted.idle_minutes > MAX_IDLE_MINUTES {
        return Err(Error::validation(
            "idle_minutes",
            format!("0 (never) to {MAX_IDLE_MINUTES} minutes"),
        )
        .to_api());
    }
    let mut settings = load_settings(conn.data_dir());
    settings.idle_lock_minutes = Some(wanted.idle_minutes);
    save_settings(conn.data_dir(), &settings)?;
    Ok(lock_settings(conn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Launch;
    use stockdesk::model::Role;

    async fn terminal(dir: &std::path::Path) -> Connection {
        Connection::open(Launch {
            data_dir: dir.to_path_buf(),
            env_url: None,
            actor: "till".into(),
            blobs: None,
            blob_dir: None,
        })
        .await
    }

    /// Writes act as the signed-in person; locking refuses them but keeps the person; signing
    /// out leaves the terminal's own handle, which the core refuses once the shop has profiles.
    #[tokio::test]
    async fn writes_act_as_the_person_signed_in_and_wait_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = terminal(dir.path()).await;
        let desk = SignIn::default();
        let state = desk.state(&conn).await.unwrap();
        assert!(!state.session.shop_has_profiles && !state.locked);
        assert_eq!(state.session.actor, "till");

        // No profiles yet: the terminal's own handle makes the owner.
        let owner = desk.acting(&conn).unwrap();
        owner
            .add_staff(None, "Olu", Role::Owner, "2468")
            .await
            .unwrap();
        let state = desk.state(&conn).await.unwrap();
        assert!(state.session.shop_has_profiles && state.session.profile.is_none());
        let anyone = desk.acting(&conn).unwrap();
        let refused = anyone.add_staff(None, "Sam", Role::Staff, "1357").await;
        assert_eq!(refused.unwrap_err().code(), "forbidden");

        let wrong = desk.sign_in(&conn, "Olu", "0000").await.unwrap_err();
        assert_eq!(wrong.code(), stockdesk::error::ErrorCode::Forbidden);
        let state = desk.sign_in(&conn, "olu", "2468").await.unwrap();
        assert_eq!(state.session.actor, "Olu");
        let olu = desk.acting(&conn).unwrap();
        assert_eq!(olu.actor(), "Olu");
        olu.add_staff(None, "Sam", Role::Staff, "1357")
            .await
            .unwrap();

        desk.lock();
        let state = desk.state(&conn).await.unwrap();
        assert!(state.locked);
        assert_eq!(state.session.actor, "Olu", "the person stays while locked");
        assert_eq!(desk.current(&conn).unwrap().actor(), "Olu");
        let locked = desk.acting(&conn).unwrap_err();
        assert_eq!(locked.code(), stockdesk::error::ErrorCode::Forbidden);

        let state = desk.sign_in(&conn, "Sam", "1357").await.unwrap();
        assert!(!state.locked);
        assert_eq!(state.session.profile.map(|p| p.role), Some(Role::Staff));

        desk.sign_out();
        desk.lock();
        let state = desk.state(&conn).await.unwrap();
        assert!(!state.locked, "nobody to lock");
        assert!(state.session.profile.is_none() && state.session.permissions.is_empty());
    }

    #[tokio::test]
    async fn the_idle_lock_is_a_setting_of_the_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let conn = terminal(dir.path()).await;
        assert_eq!(lock_settings(&conn).idle_minutes, DEFAULT_IDLE_MINUTES);
        let off = LockSettings { idle_minutes: 0 };
        assert_eq!(set_lock_settings(&conn, off).unwrap(), off);
        assert_eq!(lock_settings(&terminal(dir.path()).await), off);
        let long = LockSettings {
            idle_minutes: MAX_IDLE_MINUTES + 1,
        };
        assert_eq!(
            set_lock_settings(&conn, long).unwrap_err().code(),
            stockdesk::error::ErrorCode::Validation
        );
        assert_eq!(lock_settings(&conn), off);
    }
}
