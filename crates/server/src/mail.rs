//! Outgoing e-mail: SMTP (lettre, TLS by rustls) in production, or an outbox directory
//! of `.eml` files for trying things out and for tests. Messages carry no patient data:
//! links and short notices only.

use std::path::Path;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailSettings, MailTransport, SmtpSecurity};

/// One plain-text message to one person.
#[derive(Debug, Clone)]
pub struct Email {
    pub to_address: String,
    pub to_name: Option<String>,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the message could not be sent: {0}")]
    Send(String),
}

#[derive(Clone)]
enum Transport {
    Outbox(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Sends e-mail.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Outbox(_) => "outbox",
            Transport::Smtp(_) => "smtp",
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(settings: &MailSettings, outbox_dir: &Path) -> Result<Self, MailError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("mail.from: {e}")))?;
        let transport = match settings.transport {
            MailTransport::Outbox => {
                std::fs::create_dir_all(outbox_dir).map_err(|e| {
                    MailError::Config(format!("outbox {}: {e}", outbox_dir.display()))
                })?;
                Transport::Outbox(AsyncFileTransport::new(outbox_dir))
            }
            MailTransport::Smtp => {
                let host = settings.smtp_host.as_deref().unwrap_or("localhost");
                let mut builder = match settings.smtp_security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    }
                    SmtpSecurity::None => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    ),
                }
                .map_err(|e| MailError::Config(format!("mail.smtp_host: {e}")))?
                .port(settings.smtp_port);
                if let (Some(user), Some(password)) =
                    (&settings.smtp_username, &settings.smtp_password)
                {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Self { transport, from })
    }

    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let message = self
            .builder(email)?
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.deliver(message).await
    }

    /// Sends `email` with an HTML alternative to its plain text (for messages that must
    /// look like the ones people receive every day, such as phishing simulations).
    pub async fn send_with_html(&self, email: &Email, html: String) -> Result<(), MailError> {
        let message = self
            .builder(email)?
            .multipart(MultiPart::alternative_plain_html(email.body.clone(), html))
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.deliver(message).await
    }

    fn builder(&self, email: &Email) -> Result<lettre::message::MessageBuilder, MailError> {
        let to = Mailbox::new(
            email.to_name.clone(),
            email
                .to_address
                .parse()
                .map_err(|e| MailError::Build(format!("recipient address: {e}")))?,
        );
        Ok(Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone()))
    }

    async fn deliver(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Outbox(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }

    /// Sends without holding up the request; a failure is logged (never the content).
    pub fn send_in_background(&self, email: Email) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&email).await {
                tracing::warn!(error = %e, "an e-mail could not be sent");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_writes_one_eml_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(&MailSettings::default(), dir.path()).unwrap();
        mailer
            .send(&Email {
                to_address: "ana@clinic.example".into(),
                to_name: Some("Ana Lee".into()),
                subject: "Your invitation".into(),
                body: "Open https://tele.example/enrol/abc".into(),
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(
            text.contains("Subject: Your invitation") && text.contains("ana@clinic.example"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn bad_addresses_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new(&MailSettings::default(), dir.path()).unwrap();
        let e = mailer
            .send(&Email {
                to_address: "not an address".into(),
                to_name: None,
                subject: "x".into(),
                body: "y".into(),
            })
            .await;
        assert!(matches!(e, Err(MailError::Build(_))));
        let bad = MailSettings {
            from: "nobody".into(),
            ..MailSettings::default()
        };
        assert!(Mailer::new(&bad, dir.path()).is_err());
    }
}
