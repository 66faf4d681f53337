//! A realistic demo catalog, the same for the same seed: categories with attributes, products in
//! every status, variants over attribute combinations, image metadata.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{barcode, persist, repo};
use crate::ctx::Op;
use crate::error::Result;
use crate::model::{
    Category, Image, NewCategory, NewProduct, NewVariant, ProductStatus, SeedSummary, StagedBlob,
};
use crate::store::{Batch, Tx};

/// Products whose image rows go to the database in one batch.
const BATCH: usize = 500;

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

/// How many distinct demo images a seed uses; the command stages them before its transaction
/// (`demo_images`) and releases the uploads after it (the image rows then hold the blobs).
pub const DEMO_IMAGES: u32 = 6;

/// The demo images' bytes, the same every time.
pub fn demo_images() -> Result<Vec<Vec<u8>>> {
    (0..DEMO_IMAGES).map(demo_image).collect()
}

/// Adds `opts.products` demo products (and the demo categories, once) in the command's
/// transaction. `photos` are the staged demo images; every id comes from the command, so the
/// same command makes the same catalog wherever it is applied.
pub async fn seed(
    tx: &mut Tx,
    op: &Op<'_>,
    opts: &SeedOptions,
    photos: &[StagedBlob],
) -> Result<SeedSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let categories = seed_categories(tx, op).await?;
    let mut summary = SeedSummary {
        categories: categories.len(),
        products: 0,
        variants: 0,
        images: 0,
    };
    let mut n = repo::product_count(tx).await? as usize;
    let mut batch = Batch::default();
    while summary.products < opts.products {
        n += 1;
        let (kind, category) = {
            let i = rng.random_range(0..KINDS.len());
            (&KINDS[i], &categories[i])
        };
        let new = demo_product(&mut rng, n, kind, category);
        let variants = new.variants.len();
        let mut product = persist::create(tx, op, &new, persist::StockNote::Edit).await?;
        let images = rng.random_range(0..=3);
        for position in 0..images {
            let photo = photos.choose(&mut rng).expect("non-empty");
            product.images.push(Image {
                id: op.new_id(),
                blob_key: photo.blob_key.clone(),
                thumb_key: Some(photo.thumb_key.clone()),
                alt: format!("{} — photo {}", product.name, position + 1),
                position,
                is_thumbnail: position == 0,
                version: 1,
            });
        }
        for image in &product.images {
            repo::insert_image(&mut batch, product.id, image, op.now);
        }
        repo::replace_snapshot(&mut batch, &product)?;
        summary.products += 1;
        summary.variants += variants;
        summary.images += images as usize;
        if summary.products.is_multiple_of(BATCH) {
            std::mem::take(&mut batch).run(tx).await?;
        }
    }
    batch.run(tx).await?;
    Ok(summary)
}

async fn seed_categories(tx: &mut Tx, op: &Op<'_>) -> Result<Vec<Category>> {
    let mut have = Vec::new();
    for id in repo::category_ids(tx).await? {
        have.extend(repo::load_category(tx, id).await?);
    }
    let mut out = Vec::new();
    for kind in KINDS {
        let existing = have.iter().position(|c| c.name == kind.category);
        let category = match existing {
            Some(i) => have.swap_remove(i),
            None => {
                let new = NewCategory {
                    name: kind.category.to_string(),
                    attributes: kind
                        .attributes
                        .iter()
                        .map(|(a, vs)| (a.to_string(), vs.iter().map(|v| v.to_string()).collect()))
                        .collect(),
                };
                super::create_category(tx, op, &new).await?
            }
        };
        out.push(category);
    }
    Ok(out)
}

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
                // GS1's prefix 20 is for a shop's own numbering: never a real product's code.
                barcode: Some(barcode::with_check_digit(&format!("20{n:08}{:02}", i + 1))),
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
