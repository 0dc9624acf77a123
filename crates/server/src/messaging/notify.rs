//! "You have a new message": an in-app notice and an e-mail that say that and nothing
//! else — no sender, no conversation, no patient, no content. One unread notice at a
//! time per person, so a busy conversation does not flood anyone's inbox.

use store::notices::NoticeRow;

use crate::error::AppResult;
use crate::mail::Email;
use crate::state::AppState;

pub const KIND: &str = "new_message";
const MESSAGE: &str = "You have a new message.";

/// Tells `user_id` a message is waiting, unless an unread notice already says so.
pub async fn new_message(state: &AppState, user_id: &str) -> AppResult<()> {
    if state.db.has_unread_notice(user_id, KIND).await? {
        return Ok(());
    }
    let Some(user) = state.db.user_by_id(&state.keyring, user_id).await? else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    let notice_id = crate::setup::new_id()?;
    state
        .db
        .insert_notice(&NoticeRow {
            id: notice_id.clone(),
            user_id: user.id.clone(),
            created_ms: now,
            kind: KIND.to_owned(),
            message: MESSAGE.to_owned(),
            read_ms: None,
        })
        .await?;
    let body = format!(
        "Hello,\n\nYou have a new message in Telewarden. Sign in at {origin}/messages to read it.\n\n\
         Telewarden never puts a message's content in an e-mail.\n\n\
         Not expecting this message? Report it as suspicious:\n{origin}/report-suspicious?ref=mail.{notice_id}\n",
        origin = state.origin,
    );
    state.mailer.send_in_background(Email {
        to_address: user.email.clone(),
        to_name: None,
        subject: "You have a new message".into(),
        body,
    });
    Ok(())
}
