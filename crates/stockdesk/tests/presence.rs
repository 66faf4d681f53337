//! Who is editing: another terminal's unsaved edit shows until it stops or its heartbeats stop
//! (150 s), never this terminal's own, and it never stands in the way of a save.

use std::sync::Arc;

use chrono::TimeDelta;
use stockdesk::{Stockdesk, Store};
use stockdesk_testkit::{both_backends, stocked, TestDb};

/// A second terminal on the same database and clock, with its own name.
async fn terminal(db: &TestDb, actor: &str) -> Stockdesk {
    let store = Store::open(&db.url).await.unwrap();
    let dir = db.data_dir.parent().unwrap().join(actor);
    Stockdesk::new(store, Arc::new(db.clock.clone()), actor, dir)
}

both_backends!(
    another_terminals_edit_shows_until_it_stops,
    |db: TestDb| async move {
        let me = &db.sd;
        let ana = terminal(&db, "Ana").await;
        let v = stocked(me, "lamp", &[2]).await[0];
        let product = me.stock_level(v).await.unwrap().product_id;
        assert!(me.editors().await.unwrap().is_empty());

        ana.set_editing(product, true).await.unwrap();
        let seen = me.editors().await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].product_id, seen[0].actor.as_str()),
            (product, "Ana")
        );
        // Her own terminal does not show her to herself.
        assert!(ana.editors().await.unwrap().is_empty());
        // It locks nothing: I save meanwhile.
        me.receive_stock(v, 1, None).await.unwrap();

        // Heartbeats keep it; `since` stays when she started.
        let since = seen[0].since;
        db.clock.advance(TimeDelta::seconds(100));
        ana.set_editing(product, true).await.unwrap();
        db.clock.advance(TimeDelta::seconds(100));
        let seen = me.editors().await.unwrap();
        assert_eq!(seen.len(), 1, "a renewed edit vanished");
        assert_eq!(seen[0].since, since);

        // No heartbeat for 150 s: gone, and the sweeper forgets the row.
        db.clock.advance(TimeDelta::seconds(51));
        assert!(me.editors().await.unwrap().is_empty());
        let run = me.sweep_once().await.unwrap();
        let job = run
            .jobs
            .iter()
            .find(|j| j.job == "forget_gone_editors")
            .unwrap();
        assert_eq!(job.counts["editors_forgotten"], 1, "{run:?}");

        // Saying she stopped takes it away at once.
        ana.set_editing(product, true).await.unwrap();
        assert_eq!(me.editors().await.unwrap().len(), 1);
        ana.set_editing(product, false).await.unwrap();
        assert!(me.editors().await.unwrap().is_empty());
    }
);
