//! A refused import command, told as the file's rows and columns: the core's field paths
//! (`variants.<id>.sku`, `images.create.0.staged`, …) and conflicts become "row 7, Variant SKU:
//! already used by another product's variant".

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::columns::Field;
use super::read::ReadFile;
use crate::model::{ConflictReport, FieldError, ProblemKind, RowProblem};

/// Where in the file a product's parts come from.
pub struct Rows<'a> {
    pub file: &'a ReadFile,
    pub handle: &'a str,
    /// The product's first row.
    pub first: u32,
    pub variants: &'a HashMap<Uuid, u32>,
    /// Images by id (ones the product had), and new ones by their place in the command.
    pub images: HashMap<Uuid, u32>,
    pub created_images: HashMap<usize, u32>,
}

impl Rows<'_> {
    /// The row and column a core field path is about.
    fn place(&self, path: &str) -> (u32, Option<String>) {
        let col = |f: Field| Some(self.file.column(f));
        let mut parts = path.split('.');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("name"), ..) => (self.first, col(Field::Title)),
            (Some("slug"), ..) => (self.first, col(Field::Handle)),
            (Some("description"), ..) => (self.first, col(Field::Body)),
            (Some("status"), ..) => (self.first, col(Field::Status)),
            (Some("category_id" | "category"), ..) => (self.first, col(Field::Type)),
            (Some("variants"), Some(id), field) => {
                let row = Uuid::parse_str(id)
                    .ok()
                    .and_then(|id| self.variants.get(&id).copied())
                    .unwrap_or(self.first);
                let column = match field {
                    Some("sku") => col(Field::Sku),
                    Some("barcode") => col(Field::Barcode),
                    Some("price_minor") => col(Field::Price),
                    Some("currency") => col(Field::Currency),
                    Some("stock_on_hand") => col(Field::Qty),
                    Some("attributes") => col(Field::OptionValue(1)),
                    _ => None,
                };
                (row, column)
            }
            (Some("images"), Some("create"), Some(n)) => {
                let row = n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| self.created_images.get(&n).copied())
                    .unwrap_or(self.first);
                (row, col(Field::ImageSrc))
            }
            (Some("images"), Some(id), field) => {
                let row = Uuid::parse_str(id)
                    .ok()
                    .and_then(|id| self.images.get(&id).copied())
                    .unwrap_or(self.first);
                let column = match field {
                    Some("alt") => col(Field::ImageAlt),
                    Some("position") => col(Field::ImagePosition),
                    Some("is_thumbnail") => col(Field::Thumbnail),
                    _ => col(Field::ImageSrc),
                };
                (row, column)
            }
            _ => (self.first, None),
        }
    }

    fn problem(&self, path: &str, reason: String, kind: ProblemKind) -> RowProblem {
        let (row, column) = self.place(path);
        RowProblem {
            row,
            column,
            reason,
            kind,
            handle: Some(self.handle.to_string()),
        }
    }

    /// The rules a product broke.
    pub fn invalid(&self, errors: &[FieldError]) -> Vec<RowProblem> {
        errors
            .iter()
            .map(|e| self.problem(&e.field, e.reason.clone(), ProblemKind::Invalid))
            .collect()
    }

    /// A product refused for another reason (the whole product).
    pub fn refused(&self, reason: String) -> RowProblem {
        RowProblem {
            row: self.first,
            column: None,
            reason,
            kind: ProblemKind::Invalid,
            handle: Some(self.handle.to_string()),
        }
    }

    /// Each clash of a conflict: what the shop has now, what the file says, and who changed it.
    pub fn conflicts(&self, report: &ConflictReport) -> Vec<RowProblem> {
        report
            .conflicts
            .iter()
            .map(|c| {
                let by = c
                    .changed_by
                    .as_ref()
                    .map(|b| format!(" by {} (version {})", b.actor, b.version))
                    .unwrap_or_default();
                let reason = format!(
                    "changed in Stockdesk{by} since version {} of the file: Stockdesk has {}, \
                     the file says {}",
                    report.expected_version,
                    shown(&c.theirs),
                    shown(&c.mine),
                );
                self.problem(&c.path, reason, ProblemKind::Conflict)
            })
            .collect()
    }
}

/// A value as a person reads it in a sentence.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "nothing".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
