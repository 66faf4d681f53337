//! The product CSV's columns: Shopify's names (also their newer spellings), Stockdesk's own
//! columns, the order an export writes them in, and the two conversions every text cell goes
//! through: formula neutralising, and money.

use std::borrow::Cow;

/// A column the import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Handle,
    Title,
    Body,
    Type,
    Status,
    Published,
    /// OptionN Name (N from 1).
    OptionName(u8),
    /// OptionN Value.
    OptionValue(u8),
    Sku,
    Barcode,
    Qty,
    Price,
    Currency,
    ImageSrc,
    ImagePosition,
    ImageAlt,
    ProductId,
    Version,
    VariantId,
    Thumbnail,
}

/// The most options a file may have (Shopify has three; Stockdesk categories may have more).
pub const MAX_OPTIONS: u8 = 20;

impl Field {
    /// The field a header names, case and spacing aside; None for columns Stockdesk has no
    /// field for (Vendor, Tags, Variant Grams, …).
    pub fn from_header(header: &str) -> Option<Field> {
        let h: String = header
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        Some(match h.as_str() {
            "handle" | "url handle" => Field::Handle,
            "title" => Field::Title,
            "body (html)" | "body html" | "description" => Field::Body,
            "type" | "product type" => Field::Type,
            "status" => Field::Status,
            "published" | "published on online store" => Field::Published,
            "variant sku" | "sku" => Field::Sku,
            "variant barcode" | "barcode" => Field::Barcode,
            "variant inventory qty" | "variant inventory quantity" | "inventory quantity" => {
                Field::Qty
            }
            "variant price" | "price" => Field::Price,
            "variant currency" => Field::Currency,
            "image src" | "product image url" | "image url" => Field::ImageSrc,
            "image position" => Field::ImagePosition,
            "image alt text" | "image alt" => Field::ImageAlt,
            "stockdesk product id" => Field::ProductId,
            "stockdesk version" => Field::Version,
            "stockdesk variant id" => Field::VariantId,
            "stockdesk thumbnail" => Field::Thumbnail,
            other => return option_field(other),
        })
    }

    /// The header an export writes for this field.
    pub fn header(self) -> String {
        match self {
            Field::Handle => "Handle".into(),
            Field::Title => "Title".into(),
            Field::Body => "Body (HTML)".into(),
            Field::Type => "Type".into(),
            Field::Status => "Status".into(),
            Field::Published => "Published".into(),
            Field::OptionName(n) => format!("Option{n} Name"),
            Field::OptionValue(n) => format!("Option{n} Value"),
            Field::Sku => "Variant SKU".into(),
            Field::Barcode => "Variant Barcode".into(),
            Field::Qty => "Variant Inventory Qty".into(),
            Field::Price => "Variant Price".into(),
            Field::Currency => "Variant Currency".into(),
            Field::ImageSrc => "Image Src".into(),
            Field::ImagePosition => "Image Position".into(),
            Field::ImageAlt => "Image Alt Text".into(),
            Field::ProductId => "Stockdesk Product ID".into(),
            Field::Version => "Stockdesk Version".into(),
            Field::VariantId => "Stockdesk Variant ID".into(),
            Field::Thumbnail => "Stockdesk Thumbnail".into(),
        }
    }

    /// Columns only Stockdesk's own export has: their presence makes a file a Stockdesk one.
    pub fn is_stockdesk(self) -> bool {
        matches!(
            self,
            Field::ProductId | Field::Version | Field::VariantId | Field::Thumbnail
        )
    }
}

/// `option2 name` → OptionName(2).
fn option_field(h: &str) -> Option<Field> {
    let rest = h.strip_prefix("option")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n: u8 = digits
        .parse()
        .ok()
        .filter(|n| (1..=MAX_OPTIONS).contains(n))?;
    match rest[digits.len()..].trim() {
        "name" => Some(Field::OptionName(n)),
        "value" => Some(Field::OptionValue(n)),
        _ => None,
    }
}

/// The columns of a product export, in order, with `options` option columns.
pub fn product_export_fields(options: u8) -> Vec<Field> {
    let mut out = vec![
        Field::Handle,
        Field::Title,
        Field::Body,
        Field::Type,
        Field::Published,
    ];
    for n in 1..=options {
        out.push(Field::OptionName(n));
        out.push(Field::OptionValue(n));
    }
    out.extend([
        Field::Sku,
        Field::Barcode,
        Field::Qty,
        Field::Price,
        Field::Currency,
        Field::ImageSrc,
        Field::ImagePosition,
        Field::ImageAlt,
        Field::Status,
        Field::ProductId,
        Field::Version,
        Field::VariantId,
        Field::Thumbnail,
    ]);
    out
}

/// The characters a spreadsheet takes as the start of a formula (OWASP's list), also after a tab
/// or carriage return some programs skip.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text as an export writes it: a value a spreadsheet would run as a formula gets a leading
/// apostrophe (shown as text, never evaluated). So that `restore` can undo exactly this, a value
/// that already is apostrophes followed by such a character gets one more.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Undoes `neutralise`: one leading apostrophe comes off a value of apostrophes followed by a
/// formula character. Every other value is read as written.
pub fn restore(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => text,
    }
}

/// A price as the file writes it: major units with two decimals (`1299` → `12.99`), as the app
/// shows prices.
pub fn format_price(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// `12.99`, `12.9`, `12` → minor units (hundredths). Plain digits with a dot, at most two
/// decimals, as Shopify writes prices.
pub fn parse_price(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a price like 12.99");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (t.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

/// Shopify's booleans (`TRUE` / `FALSE`, any case; also yes / no and 1 / 0).
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        other => Err(format!("{other:?} is not TRUE or FALSE")),
    }
}

pub fn format_bool(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_restored_exactly() {
        for text in [
            "=SUM(A1:A2)",
            "+1",
            "-2",
            "@cmd",
            "\tx",
            "\r=x",
            "'=already quoted",
            "''+two",
            "plain",
            "'",
            "''",
            "'plain",
            "",
            "a=b",
        ] {
            let written = neutralise(text);
            assert_eq!(restore(&written), text, "{text:?} → {written:?}");
            let dangerous = written.starts_with(FORMULA_STARTS);
            assert!(!dangerous, "{text:?} is written as {written:?}");
        }
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("plain"), "plain");
        assert_eq!(restore("'plain"), "'plain", "a plain apostrophe is data");
    }

    #[test]
    fn prices_have_two_decimals() {
        assert_eq!(parse_price("12.99"), Ok(1299));
        assert_eq!(parse_price("12.9"), Ok(1290));
        assert_eq!(parse_price(" 12 "), Ok(1200));
        assert_eq!(parse_price("0.05"), Ok(5));
        for bad in [
            "",
            "12.",
            ".5",
            "1.234",
            "-1",
            "1,5",
            "abc",
            "99999999999999999999",
        ] {
            assert!(parse_price(bad).is_err(), "{bad:?}");
        }
        for minor in [0, 5, 1299, 100_000_000] {
            assert_eq!(parse_price(&format_price(minor)), Ok(minor));
        }
    }

    #[test]
    fn headers_are_read_in_any_spelling() {
        assert_eq!(Field::from_header("Handle"), Some(Field::Handle));
        assert_eq!(Field::from_header("URL handle"), Some(Field::Handle));
        assert_eq!(Field::from_header(" body  (HTML) "), Some(Field::Body));
        assert_eq!(
            Field::from_header("Option2 Name"),
            Some(Field::OptionName(2))
        );
        assert_eq!(
            Field::from_header("option12 value"),
            Some(Field::OptionValue(12))
        );
        assert_eq!(Field::from_header("Option1 Linked To"), None);
        assert_eq!(Field::from_header("Vendor"), None);
        for f in product_export_fields(3) {
            assert_eq!(Field::from_header(&f.header()), Some(f));
        }
    }
}
