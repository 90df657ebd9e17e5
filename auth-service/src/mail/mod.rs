//! Outgoing mail: over SMTP (with `lettre`) when a relay is configured,
//! otherwise as `.eml` files in an outbox folder, which is what the
//! embedded default does so that a laptop needs no mail server. Mail leaves
//! in the background; a failure is logged (never the message itself, which
//! may hold a link token) and costs the caller nothing.

pub mod templates;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailSettings, SmtpTls};
use templates::Content;

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One message to one recipient.
pub struct Mail {
    to: String,
    content: Content,
}

impl Mail {
    pub fn new(to: String, content: Content) -> Self {
        Self { to, content }
    }
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A folder: each message is one `.eml` file, written whole under a
    /// temporary name and then renamed, so a reader never sees half of one.
    Outbox(PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Where mail goes, for the start-up banner.
    destination: String,
}

impl Mailer {
    pub fn new(settings: &MailSettings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .from
            .parse()
            .with_context(|| format!("AUTH_MAIL_FROM is not a mail address: {}", settings.from))?;
        let (transport, destination) = match &settings.smtp_host {
            Some(host) => {
                let builder = match settings.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .context("invalid AUTH_SMTP_HOST")?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .context("invalid AUTH_SMTP_HOST")?,
                };
                let mut builder = builder
                    .port(settings.smtp_port())
                    .timeout(Some(SMTP_TIMEOUT));
                if let Some(username) = &settings.smtp_username {
                    builder = builder.credentials(Credentials::new(
                        username.clone(),
                        settings.smtp_password.clone().unwrap_or_default(),
                    ));
                }
                let destination = format!(
                    "SMTP relay {host}:{} ({})",
                    settings.smtp_port(),
                    settings.smtp_tls.as_str()
                );
                (Transport::Smtp(builder.build()), destination)
            }
            None => {
                let folder: PathBuf = settings.outbox.clone();
                std::fs::create_dir_all(&folder)
                    .with_context(|| format!("cannot create the outbox {}", folder.display()))?;
                let destination = format!("outbox folder {}", folder.display());
                (Transport::Outbox(folder), destination)
            }
        };
        Ok(Self {
            transport,
            from,
            destination,
        })
    }

    /// Where mail goes: an SMTP relay or the outbox folder.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    fn message(&self, mail: Mail) -> anyhow::Result<Message> {
        let to: Mailbox = mail.to.parse().context("recipient is not a mail address")?;
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.content.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.content.text,
                mail.content.html,
            ))?)
    }

    /// Sends one message and waits for the relay (or the outbox) to take it.
    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let message = self.message(mail)?;
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await.context("SMTP delivery failed")?;
            }
            Transport::Outbox(folder) => {
                let name = uuid::Uuid::new_v4();
                let partial = folder.join(format!(".{name}.eml.partial"));
                let done = folder.join(format!("{name}.eml"));
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .context("writing to the outbox failed")?;
                tokio::fs::rename(&partial, &done)
                    .await
                    .context("writing to the outbox failed")?;
            }
        }
        Ok(())
    }

    /// Sends one message in the background.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        let kind = mail.content.kind;
        tokio::spawn(async move {
            match mailer.send(mail).await {
                Ok(()) => tracing::info!(mail = kind, "mail sent"),
                Err(err) => {
                    tracing::error!(mail = kind, error = %format!("{err:#}"), "mail not sent")
                }
            }
        });
    }
}
