//! A variant's barcode: EAN-13, EAN-8 or UPC-A (12 digits), as printed under the bars. Stored as
//! its digits only; checked by its check digit, so a mistyped or misread code is refused where
//! it is entered rather than found missing at the till.

/// The barcode as stored: `text` without spaces (people copy codes printed in groups,
/// `4 006381 33393 1`); None when nothing is left. Not checked: `problem` says what is wrong.
pub fn normalise(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (!digits.is_empty()).then_some(digits)
}

/// What is wrong with a normalised barcode, or None for a valid EAN-13, EAN-8 or UPC-A.
pub fn problem(code: &str) -> Option<String> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Some("digits only (an EAN-13, EAN-8 or UPC-A barcode)".into());
    }
    if !matches!(code.len(), 8 | 12 | 13) {
        return Some(format!(
            "{} digits: an EAN-13 has 13, a UPC-A 12, an EAN-8 8",
            code.len()
        ));
    }
    let (body, last) = code.split_at(code.len() - 1);
    let expected = check_digit(body);
    (last.as_bytes()[0] - b'0' != expected).then(|| format!("check digit should be {expected}"))
}

/// The GS1 check digit of `body` (the code without its last digit): weights 3 and 1 from the
/// right, the digit that makes the sum a multiple of 10. The same rule for all three formats.
fn check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// `body` followed by its check digit (`body` is digits: 7, 11 or 12 of them).
pub fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body))
}

/// The spellings of the same product code: a UPC-A is also read as the EAN-13 `0` + its 12 digits
/// (scanners are set up either way), so each finds the other.
pub fn spellings(code: &str) -> Vec<String> {
    match code.len() {
        12 => vec![code.to_string(), format!("0{code}")],
        13 if code.starts_with('0') => vec![code.to_string(), code[1..].to_string()],
        _ => vec![code.to_string()],
    }
}

/// One key per product code whatever its spelling (see `spellings`): the EAN-13 form.
pub fn key(code: &str) -> String {
    match code.len() {
        12 => format!("0{code}"),
        _ => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_of_each_format_pass() {
        for code in ["4006381333931", "96385074", "036000291452", "5901234123457"] {
            assert_eq!(problem(code), None, "{code}");
        }
    }

    #[test]
    fn a_wrong_check_digit_says_the_right_one() {
        assert_eq!(
            problem("4006381333932").as_deref(),
            Some("check digit should be 1")
        );
        assert_eq!(
            problem("036000291450").as_deref(),
            Some("check digit should be 2")
        );
        assert_eq!(
            problem("96385070").as_deref(),
            Some("check digit should be 4")
        );
        assert_eq!(with_check_digit("400638133393"), "4006381333931");
    }

    #[test]
    fn lengths_and_characters_are_checked() {
        assert!(problem("12345").unwrap().starts_with("5 digits"));
        assert!(problem("400638133393A").unwrap().starts_with("digits only"));
        assert!(problem("40063813339310").unwrap().starts_with("14 digits"));
    }

    #[test]
    fn spaces_go_and_empty_is_none() {
        assert_eq!(
            normalise(" 4 006381 33393 1 ").as_deref(),
            Some("4006381333931")
        );
        assert_eq!(normalise("   "), None);
    }

    #[test]
    fn upc_a_and_its_ean_13_spelling_are_one_code() {
        assert_eq!(key("036000291452"), key("0036000291452"));
        assert_eq!(
            spellings("0036000291452"),
            ["0036000291452", "036000291452"]
        );
        assert_eq!(spellings("4006381333931"), ["4006381333931"]);
    }
}
