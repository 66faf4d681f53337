//! Staff profiles and roles, checked in the core: every command kind against every role on both
//! backends (allowed, or refused as `forbidden` with nothing changed), PIN lockout, the actor
//! recorded as a profile, and a role read fresh from another terminal's change.

use serde_json::{json, Value};
use stockdesk::{Command, Permission, Role, Stockdesk};
use stockdesk_testkit::images::png;
use stockdesk_testkit::{both_backends, dump, order_of, stocked, TestDb};
use uuid::Uuid;

const ROLES: [(Role, &str, &str); 3] = [
    (Role::Staff, "Sam", "1111"),
    (Role::Manager, "Mia", "2222"),
    (Role::Owner, "Olu", "3333"),
];

/// A shop with an owner, a manager and a helper; returns the owner's signed-in handle.
async fn shop(sd: &Stockdesk) -> Stockdesk {
    sd.add_staff(None, "Olu", Role::Owner, "3333")
        .await
        .unwrap();
    let owner = sd.sign_in("olu", "3333").await.unwrap();
    owner
        .add_staff(None, "Mia", Role::Manager, "2222")
        .await
        .unwrap();
    owner
        .add_staff(None, "Sam", Role::Staff, "1111")
        .await
        .unwrap();
    owner
}

fn command(sd: &Stockdesk, kind: Value) -> Command {
    let kind = serde_json::from_value(kind).expect("a command kind");
    sd.command(None, kind)
}

/// Each kind (fresh inputs made by the owner) and the least role that may apply it.
async fn cases(owner: &Stockdesk, n: usize) -> Vec<(&'static str, Value, Role)> {
    let v = stocked(owner, &format!("case-{n}"), &[20]).await[0];
    // Each edit gets a product of its own, so no edit meets another's.
    let mut fresh = Vec::new();
    for k in 0..5 {
        let v = stocked(owner, &format!("case-{n}-edit-{k}"), &[5]).await[0];
        let product = owner.stock_level(v).await.unwrap().product_id;
        if k == 3 {
            owner
                .patch_product(stockdesk::catalog::PatchRequest {
                    product_id: product,
                    expected_version: 1,
                    patch: serde_json::from_value(json!({"description": "old"})).unwrap(),
                    op_id: None,
                })
                .await
                .unwrap();
        }
        let version = owner.get_product(product).await.unwrap().version;
        fresh.push((v, product, version));
    }
    let order = owner.create_order(order_of(&[(v, 1)]), None).await.unwrap();
    let held = owner.create_order(order_of(&[(v, 1)]), None).await.unwrap();
    let staged = owner.stage_image_bytes(png(n as u32)).await.unwrap();
    let hash = stockdesk::staff::pin::hash("9999", None).await.unwrap();
    let victim = owner
        .add_staff(None, &format!("Temp {n}"), Role::Staff, "4444")
        .await
        .unwrap();
    vec![
        (
            "create_category",
            json!({"type": "create_category", "category": {"name": format!("Cat {n}")}}),
            Role::Manager,
        ),
        (
            "create_product",
            json!({"type": "create_product", "product": {"name": format!("New {n}")}}),
            Role::Manager,
        ),
        (
            "patch description",
            json!({"type": "patch_product", "product_id": fresh[0].1, "expected_version": fresh[0].2, "patch": {"description": "soft"}}),
            Role::Staff,
        ),
        (
            "patch price",
            json!({"type": "patch_product", "product_id": fresh[1].1, "expected_version": fresh[1].2, "patch": {"variants": {"update": [{"id": fresh[1].0, "price_minor": 99}]}}}),
            Role::Manager,
        ),
        (
            "patch archive",
            json!({"type": "patch_product", "product_id": fresh[2].1, "expected_version": fresh[2].2, "patch": {"status": "archived"}}),
            Role::Manager,
        ),
        (
            "restore_product",
            json!({"type": "restore_product", "product_id": fresh[3].1, "expected_version": fresh[3].2, "to_version": 1}),
            Role::Manager,
        ),
        (
            "add_images",
            json!({"type": "add_images", "product_id": fresh[4].1, "expected_version": fresh[4].2, "staged": [staged.id]}),
            Role::Staff,
        ),
        (
            "create_order",
            json!({"type": "create_order", "order": {"items": [{"variant_id": v, "quantity": 1}]}}),
            Role::Staff,
        ),
        (
            "pay_order",
            json!({"type": "pay_order", "order_id": order.id}),
            Role::Staff,
        ),
        (
            "extend_order",
            json!({"type": "extend_order", "order_id": held.id, "by_secs": 60}),
            Role::Staff,
        ),
        (
            "receive_stock",
            json!({"type": "receive_stock", "variant_id": v, "quantity": 2}),
            Role::Staff,
        ),
        (
            "count_stock",
            json!({"type": "count_stock", "variant_id": v, "counted": 15}),
            Role::Staff,
        ),
        (
            "adjust_stock",
            json!({"type": "adjust_stock", "variant_id": v, "delta": -1, "reason": "broken"}),
            Role::Manager,
        ),
        (
            "seed",
            json!({"type": "seed", "products": 1, "seed": n}),
            Role::Manager,
        ),
        (
            "add_staff",
            json!({"type": "add_staff", "staff": {"name": format!("New {n}"), "role": "staff", "pin_hash": hash}}),
            Role::Owner,
        ),
        (
            "remove_staff",
            json!({"type": "remove_staff", "staff_id": victim.id}),
            Role::Owner,
        ),
    ]
}

both_backends!(
    every_command_is_checked_against_every_role,
    |db: TestDb| async move {
        let owner = shop(&db.sd).await;
        let mut n = 0;
        for (role, name, pin) in ROLES {
            let person = db.sd.sign_in(name, pin).await.unwrap();
            for (what, kind, least) in cases(&owner, n).await {
                n += 1;
                let before = dump(&db.sd).await;
                let result = person.apply(&command(&person, kind)).await;
                if role >= least {
                    result.unwrap_or_else(|e| panic!("{role} may {what}: {e}"));
                } else {
                    let e = result.expect_err(what);
                    assert_eq!(e.code(), "forbidden", "{role} {what}: {e}");
                    assert_eq!(e.exit_code(), 7);
                    assert_eq!(dump(&db.sd).await, before, "{role} {what}: nothing changed");
                }
            }
        }
        // Cancel too (its order must still be pending).
        let v = stocked(&owner, "last", &[3]).await[0];
        let order = owner.create_order(order_of(&[(v, 1)]), None).await.unwrap();
        let sam = db.sd.sign_in("Sam", "1111").await.unwrap();
        sam.cancel_order(order.id).await.unwrap();
    }
);

both_backends!(
    a_shop_without_profiles_works_as_before_until_the_first,
    |db: TestDb| async move {
        let v = stocked(&db.sd, "mug", &[5]).await[0];
        db.sd.receive_stock(v, 1, None).await.unwrap();
        // The first profile must be an owner.
        let e = db
            .sd
            .add_staff(None, "Sam", Role::Staff, "1111")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "validation");
        db.sd
            .add_staff(None, "Olu", Role::Owner, "3333")
            .await
            .unwrap();
        // From now on an anonymous handle cannot write, and says why.
        let e = db.sd.receive_stock(v, 1, None).await.unwrap_err();
        assert_eq!(e.code(), "forbidden");
        assert!(e.to_string().contains("sign in"), "{e}");
        let session = db.sd.session().await.unwrap();
        assert!(session.shop_has_profiles && session.permissions.is_empty());
        assert_eq!(session.withheld.len(), Permission::ALL.len());
        // A helper cannot pass on a command made by the owner.
        let owner = db.sd.sign_in("Olu", "3333").await.unwrap();
        let owners = owner.command(
            None,
            serde_json::from_value(
                json!({"type": "receive_stock", "variant_id": v, "quantity": 1}),
            )
            .unwrap(),
        );
        let e = db.sd.apply(&owners).await.unwrap_err();
        assert_eq!(e.code(), "forbidden");
        owner.apply(&owners).await.unwrap();
        // What a staff person lacks comes with the role that has it (the app says why).
        let sam = owner
            .add_staff(None, "Sam", Role::Staff, "1111")
            .await
            .unwrap();
        let staff = db
            .sd
            .sign_in("Sam", "1111")
            .await
            .unwrap()
            .session()
            .await
            .unwrap();
        assert_eq!(staff.profile.map(|p| p.id), Some(sam.id));
        assert!(staff.permissions.contains(&Permission::EditDescriptions));
        let prices = staff
            .withheld
            .iter()
            .find(|w| w.permission == Permission::EditPrices)
            .expect("staff may not change prices");
        assert_eq!(prices.needs, Role::Manager);
        assert_eq!(
            staff.permissions.len() + staff.withheld.len(),
            Permission::ALL.len()
        );
        // The last owner cannot be removed.
        let me = owner.session().await.unwrap().profile.unwrap();
        let e = owner.remove_staff(None, me.id).await.unwrap_err();
        assert_eq!(e.code(), "invalid_state");
    }
);

both_backends!(
    five_wrong_pins_lock_a_profile_for_five_minutes,
    |db: TestDb| async move {
        let owner = shop(&db.sd).await;
        for left in (1..5).rev() {
            let e = db.sd.sign_in("Sam", "0000").await.unwrap_err();
            assert_eq!(e.code(), "forbidden");
            assert_eq!(
                serde_json::to_value(e.to_api()).unwrap()["details"],
                json!({"reason": "wrong_pin", "attempts_left": left})
            );
        }
        let e = db.sd.sign_in("Sam", "0000").await.unwrap_err();
        assert_eq!(
            serde_json::to_value(e.to_api()).unwrap()["details"]["reason"],
            "locked"
        );
        // Locked: even the right PIN is refused, and not counted.
        let e = db.sd.sign_in("Sam", "1111").await.unwrap_err();
        assert_eq!(
            serde_json::to_value(e.to_api()).unwrap()["details"]["reason"],
            "locked"
        );
        db.clock
            .advance(chrono::TimeDelta::minutes(5) + chrono::TimeDelta::seconds(1));
        db.sd.sign_in("Sam", "1111").await.unwrap();
        let kinds: Vec<String> = owner
            .staff_events(20)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.name == "Sam")
            .map(|e| format!("{:?}", e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                "SignedIn",
                "RefusedLocked",
                "LockedOut",
                "WrongPin",
                "WrongPin",
                "WrongPin",
                "WrongPin"
            ]
        );
    }
);

both_backends!(
    the_actor_is_the_signed_in_profile,
    |db: TestDb| async move {
        let owner = shop(&db.sd).await;
        let mia = db.sd.sign_in("MIA", "2222").await.unwrap();
        let mia_id = mia.actor_id().unwrap();
        assert_eq!(mia.actor(), "Mia");
        let v = mia
        .apply(&command(&mia, json!({"type": "create_product", "product": {"name": "Lamp",
            "variants": [{"sku": "L-1", "price_minor": 100, "currency": "EUR", "stock_on_hand": 2}]}})))
        .await
        .unwrap();
        let stockdesk::Outcome::Product(p) = v.outcome else {
            panic!("a product")
        };
        let history = owner.product_history(p.id).await.unwrap();
        assert_eq!(
            (history[0].actor.as_str(), history[0].actor_id),
            ("Mia", Some(mia_id))
        );
        let moves = owner.stock_movements(p.variants[0].id).await.unwrap();
        assert_eq!(
            (moves[0].actor.as_str(), moves[0].actor_id),
            ("Mia", Some(mia_id))
        );
        let order = mia
            .create_order(order_of(&[(p.variants[0].id, 1)]), None)
            .await
            .unwrap();
        assert_eq!(
            (order.created_by.as_str(), order.created_by_id),
            ("Mia", Some(mia_id))
        );
        // A command naming someone else than its profile is refused.
        let mut forged = command(
            &mia,
            json!({"type": "receive_stock", "variant_id": p.variants[0].id, "quantity": 1}),
        );
        forged.actor = "Olu".into();
        assert_eq!(mia.apply(&forged).await.unwrap_err().code(), "bad_input");
    }
);

both_backends!(
    a_profile_removed_elsewhere_stops_acting_at_once,
    |db: TestDb| async move {
        let owner = shop(&db.sd).await;
        let sam = db.sd.sign_in("Sam", "1111").await.unwrap();
        let v = stocked(&owner, "cup", &[4]).await[0];
        sam.receive_stock(v, 1, None).await.unwrap();
        let sam_id = sam.actor_id().unwrap();
        owner.remove_staff(None, sam_id).await.unwrap();
        let e = sam.receive_stock(v, 1, None).await.unwrap_err();
        assert_eq!(
            serde_json::to_value(e.to_api()).unwrap()["details"]["reason"],
            "removed"
        );
        assert_eq!(
            db.sd.sign_in("Sam", "1111").await.unwrap_err().code(),
            "not_found"
        );
        let _ = Uuid::nil();
    }
);
