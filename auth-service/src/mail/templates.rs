//! The mails the account manager sends, in plain text and HTML. Whatever
//! comes from users (names) or carries a token (links) is escaped in HTML.

/// A rendered mail.
pub struct Content {
    /// What kind of mail this is, for logs.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `text` safe inside HTML text and double-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn greeting(name: &Option<String>) -> String {
    match name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    }
}

fn html_page(name: &Option<String>, paragraphs: &[String], link: &str, action: &str) -> String {
    let link = escape_html(link);
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>\n", escape_html(p)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><body>\n<p>{}</p>\n{body}<p><a href=\"{link}\">{}</a></p>\n<p>{link}</p>\n</body></html>\n",
        escape_html(&greeting(name)),
        escape_html(action),
    )
}

/// The password-reset mail: its link works once, for `minutes`.
pub fn password_reset(name: &Option<String>, link: &str, minutes: u64) -> Content {
    let lines = [
        "Someone asked to reset the password of your account. If it was you, follow the link below to choose a new one.".to_owned(),
        format!("The link works once, for {minutes} minutes. Resetting the password signs you out everywhere."),
        "If you did not ask for this, ignore this mail: your password stays as it is.".to_owned(),
    ];
    Content {
        kind: "password-reset",
        subject: "Reset your password".to_owned(),
        text: format!(
            "{}\n\n{}\n\n{link}\n\n{}\n\n{}\n",
            greeting(name),
            lines[0],
            lines[1],
            lines[2]
        ),
        html: html_page(name, &lines, link, "Choose a new password"),
    }
}

/// The email-verification mail.
pub fn email_verification(name: &Option<String>, link: &str) -> Content {
    let lines = [
        "Please confirm that this is your email address by following the link below.".to_owned(),
        "If you did not create an account, ignore this mail.".to_owned(),
    ];
    Content {
        kind: "email-verification",
        subject: "Verify your email address".to_owned(),
        text: format!(
            "{}\n\n{}\n\n{link}\n\n{}\n",
            greeting(name),
            lines[0],
            lines[1]
        ),
        html: html_page(name, &lines, link, "Verify my email address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_is_escaped_in_html() {
        let name = Some("<script>alert(1)</script> & \"Bob\"".to_owned());
        let mail = password_reset(&name, "https://app/reset?token=a&b=\"c\"", 30);
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(
            mail.html
                .contains("href=\"https://app/reset?token=a&amp;b=&quot;c&quot;\"")
        );
        assert!(mail.text.contains("https://app/reset?token=a&b=\"c\""));
        assert!(mail.text.contains("30 minutes"));
    }
}
