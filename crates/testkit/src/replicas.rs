//! Comparing a terminal's replica with its shop, table by table and row by row.

use std::collections::BTreeSet;

use stockdesk::store::Stmt;
use stockdesk::sync::tables::{Columns, TABLES};
use stockdesk::Stockdesk;

/// What differs between every replicated table of `shop` and of `replica` (empty when they are
/// the same). Columns each database keeps for itself are left out; of image bytes, those in use.
pub async fn replica_differences(shop: &Stockdesk, replica: &Stockdesk) -> Vec<String> {
    let cols = Columns::read(&mut shop.store().conn().await.unwrap())
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in TABLES {
        let filter = || Stmt::new(t.copied_only.unwrap_or("1 = 1"));
        let rows = |sd: &Stockdesk| {
            let cols = cols.clone();
            let sd = sd.clone();
            async move {
                let mut conn = sd.store().conn().await.unwrap();
                let rows = cols.fetch(&mut conn, t.name, filter()).await.unwrap();
                let names: Vec<String> = cols.of(t.name).iter().map(|(n, _)| n.clone()).collect();
                rows.into_iter()
                    .map(|r| {
                        let kept: serde_json::Map<String, serde_json::Value> = names
                            .iter()
                            .zip(&r)
                            .filter(|(n, _)| !t.local.contains(&n.as_str()))
                            .map(|(n, v)| (n.clone(), v.to_json()))
                            .collect();
                        serde_json::Value::Object(kept).to_string()
                    })
                    .collect::<BTreeSet<String>>()
            }
        };
        let (s, r) = (rows(shop).await, rows(replica).await);
        for only in s.difference(&r).take(5) {
            out.push(format!("{}: only on the shop: {only}", t.name));
        }
        for only in r.difference(&s).take(5) {
            out.push(format!("{}: only on the replica: {only}", t.name));
        }
    }
    out
}

/// Panics with the differences, if any.
pub async fn assert_replica_equals_shop(shop: &Stockdesk, replica: &Stockdesk) {
    let diff = replica_differences(shop, replica).await;
    assert!(
        diff.is_empty(),
        "the replica differs from the shop:\n{}",
        diff.join("\n")
    );
}
