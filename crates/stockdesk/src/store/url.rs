//! Database URLs as people may see them: with every password replaced by `***`.

/// The URL with its password hidden: the one in the user info (also when it holds `@`, `:` or
/// `/`) and any `password=` / `sslpassword=` query value. Used for every URL that reaches an
/// error, a log line or the UI.
pub fn redact(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        // The user info ends at the last `@` (an unencoded `@` in a password comes before it).
        Some((scheme, rest)) => match rest.rfind('@') {
            Some(at) => {
                let (userinfo, host) = (&rest[..at], &rest[at..]);
                match userinfo.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:***{host}"),
                    None => format!("{scheme}://{userinfo}{host}"),
                }
            }
            None => head.to_string(),
        },
        None => head.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if is_secret(k) => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "password" || key == "sslpassword" || key.ends_with("_password")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "postgres://shop:hunter2@db.local:5432/shop",
                "postgres://shop:***@db.local:5432/shop",
            ),
            (
                "postgresql://shop:p@ss:w/rd@db.local/shop",
                "postgresql://shop:***@db.local/shop",
            ),
            (
                "postgres://shop@db.local/shop?password=hunter2&sslmode=require",
                "postgres://shop@db.local/shop?password=***&sslmode=require",
            ),
            (
                "postgress://shop:hunter2@db.local/shop",
                "postgress://shop:***@db.local/shop",
            ),
            (
                "postgres://shop@db.local/shop",
                "postgres://shop@db.local/shop",
            ),
            ("sqlite:///tmp/a.db", "sqlite:///tmp/a.db"),
            ("PASSWORD=x", "PASSWORD=x"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
            assert!(!redact(url).contains("hunter2") && !redact(url).contains("ss:w"));
        }
    }
}
