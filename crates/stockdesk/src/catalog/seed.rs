//! A realistic demo catalog, the same for the same seed: categories with attributes, products in
//! every status, variants over attribute combinations, image metadata.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tracing::Instrument;

use super::model::{Category, NewCategory, NewProduct, NewVariant, ProductStatus};
use super::{persist, repo};
use crate::error::Result;
use crate::Stockdesk;

/// Products written per transaction: large enough to seed 100k products quickly, small enough
/// to keep each transaction short.
const BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SeedSummary {
    pub categories: usize,
    pub products: usize,
    pub variants: usize,
    pub images: usize,
}

struct Kind {
    category: &'static str,
    attributes: &'static [(&'static str, &'static [&'static str])],
    nouns: &'static [&'static str],
    price: (i64, i64),
}

const KINDS: &[Kind] = &[
    Kind {
        category: "Apparel",
        attributes: &[
            ("Size", &["XS", "S", "M", "L", "XL"]),
            ("Colour", &["Black", "White", "Navy", "Olive", "Rust"]),
        ],
        nouns: &[
            "T-Shirt", "Hoodie", "Jacket", "Scarf", "Beanie", "Cardigan", "Shirt", "Apron",
        ],
        price: (900, 12_900),
    },
    Kind {
        category: "Coffee",
        attributes: &[
            ("Weight", &["250 g", "500 g", "1 kg"]),
            ("Grind", &["Whole bean", "Espresso", "Filter"]),
        ],
        nouns: &[
            "Espresso Blend",
            "House Roast",
            "Single Origin",
            "Decaf",
            "Cold Brew Blend",
        ],
        price: (650, 3_900),
    },
    Kind {
        category: "Ceramics",
        attributes: &[("Glaze", &["Speckled", "Matte White", "Cobalt", "Celadon"])],
        nouns: &["Mug", "Bowl", "Plate", "Vase", "Teapot", "Planter"],
        price: (1_200, 8_500),
    },
    Kind {
        category: "Stationery",
        attributes: &[
            ("Ruling", &["Blank", "Dotted", "Lined", "Grid"]),
            ("Format", &["A5", "A6", "B5"]),
        ],
        nouns: &["Notebook", "Sketchbook", "Planner", "Journal", "Notepad"],
        price: (450, 2_900),
    },
];

const ADJECTIVES: &[&str] = &[
    "Classic", "Organic", "Handmade", "Vintage", "Everyday", "Heritage", "Coastal", "Alpine",
    "Urban", "Rustic", "Nordic", "Sunny", "Midnight", "Harbour", "Meadow", "Granite", "Linen",
    "Copper", "Forest", "Autumn",
];

pub struct SeedOptions {
    pub products: usize,
    pub seed: u64,
}

impl Stockdesk {
    /// Adds `products` demo products (and the demo categories, once).
    pub async fn seed(&self, opts: SeedOptions) -> Result<SeedSummary> {
        let span = tracing::info_span!("seed", products = opts.products, seed = opts.seed);
        async {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            let categories = self.seed_categories().await?;
            let mut summary = SeedSummary {
                categories: categories.len(),
                products: 0,
                variants: 0,
                images: 0,
            };
            // A few real images, stored once and shared by every seeded product, so that a
            // seeded database verifies clean and 100k products still seed quickly.
            let mut photos = Vec::new();
            for n in 0..DEMO_IMAGES {
                photos.push(self.stage_image_bytes(demo_image(n)?).await?);
            }
            let existing = self.list_products(Default::default()).await?.total as usize;
            let mut n = existing;
            while summary.products < opts.products {
                let batch = BATCH.min(opts.products - summary.products);
                let mut tx = self.store.write().await?;
                let now = self.clock.now();
                for _ in 0..batch {
                    n += 1;
                    let (kind, category) = {
                        let i = rng.random_range(0..KINDS.len());
                        (&KINDS[i], &categories[i])
                    };
                    let new = demo_product(&mut rng, n, kind, category);
                    let variants = new.variants.len();
                    let mut product = persist::create(&mut tx, &new, "seed", now).await?;
                    let images = rng.random_range(0..=3);
                    for position in 0..images {
                        let photo = photos.choose(&mut rng).expect("non-empty");
                        product.images.push(super::model::Image {
                            id: uuid::Uuid::now_v7(),
                            blob_key: photo.blob_key.clone(),
                            thumb_key: Some(photo.thumb_key.clone()),
                            alt: format!("{} — photo {}", product.name, position + 1),
                            position,
                            is_thumbnail: position == 0,
                            version: 1,
                        });
                    }
                    let mut batch = crate::store::Batch::default();
                    for image in &product.images {
                        repo::insert_image(&mut batch, product.id, image, now);
                    }
                    batch.run(&mut tx).await?;
                    repo::replace_snapshot(&mut tx, &product).await?;
                    summary.products += 1;
                    summary.variants += variants;
                    summary.images += images as usize;
                }
                tx.commit().await?;
            }
            // The image rows now hold the blobs; the uploads are used up.
            self.release_staged(photos.iter().map(|p| p.id).collect())
                .await?;
            Ok(summary)
        }
        .instrument(span)
        .await
    }

    async fn seed_categories(&self) -> Result<Vec<Category>> {
        let mut have = self.list_categories().await?;
        let mut out = Vec::new();
        for kind in KINDS {
            let existing = have.iter().position(|c| c.name == kind.category);
            let category = match existing {
                Some(i) => have.swap_remove(i),
                None => {
                    self.create_category(NewCategory {
                        name: kind.category.to_string(),
                        attributes: kind
                            .attributes
                            .iter()
                            .map(|(a, vs)| {
                                (a.to_string(), vs.iter().map(|v| v.to_string()).collect())
                            })
                            .collect(),
                    })
                    .await?
                }
            };
            out.push(category);
        }
        Ok(out)
    }
}

/// How many distinct demo images a seed uses.
const DEMO_IMAGES: u32 = 6;

/// A small PNG: a two-colour gradient per `n`, the same bytes every time.
fn demo_image(n: u32) -> Result<Vec<u8>> {
    let (a, b) = ([200, 90, 60], [40, 70 + 30 * n as u8, 160]);
    let img = image::RgbImage::from_fn(96, 96, |x, y| {
        let t = (x + y) as f32 / 190.0;
        image::Rgb(std::array::from_fn(|c| {
            (a[c] as f32 * (1.0 - t) + b[c] as f32 * t) as u8
        }))
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| crate::Error::Io(std::io::Error::other(e)))?;
    Ok(out.into_inner())
}

fn demo_product(rng: &mut ChaCha8Rng, n: usize, kind: &Kind, category: &Category) -> NewProduct {
    let adjective = ADJECTIVES.choose(rng).expect("non-empty");
    let noun = kind.nouns.choose(rng).expect("non-empty");
    let name = format!("{adjective} {noun} No. {n}");
    let status = match rng.random_range(0..10) {
        0 => ProductStatus::Draft,
        1 => ProductStatus::Archived,
        _ => ProductStatus::Published,
    };
    let price = rng.random_range(kind.price.0 / 50..=kind.price.1 / 50) * 50 - 1;
    // The first attribute varies per variant; the others are fixed for the product.
    let (first, rest) = category
        .attributes
        .split_first()
        .expect("demo categories have attributes");
    let fixed: BTreeMap<String, String> = rest
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.values.choose(rng).expect("non-empty").clone(),
            )
        })
        .collect();
    let count = rng.random_range(1..=first.values.len().min(4));
    let prefix: String = kind.category[..3].to_uppercase();
    let variants = first
        .values
        .iter()
        .take(count)
        .enumerate()
        .map(|(i, value)| {
            let mut attributes = fixed.clone();
            attributes.insert(first.name.clone(), value.clone());
            NewVariant {
                id: None,
                sku: format!("{prefix}-{n:06}-{}", i + 1),
                price_minor: price + i as i64 * 100,
                currency: "EUR".into(),
                stock_on_hand: if rng.random_range(0..8) == 0 {
                    rng.random_range(0..4)
                } else {
                    rng.random_range(5..120)
                },
                attributes,
            }
        })
        .collect();
    NewProduct {
        id: None,
        name: name.clone(),
        slug: None,
        description: format!(
            "{name}. {} from our {} range, made in small batches.",
            noun,
            kind.category.to_lowercase()
        ),
        status,
        category_id: Some(category.id),
        variants,
    }
}
