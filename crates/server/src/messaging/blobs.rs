//! Encrypted attachments: the client seals each file with a fresh key (sent inside the
//! MLS message that refers to it); the server keeps the opaque blob for the
//! conversation's members, within the configured size per attachment and in total per
//! conversation (`messaging.max_conversation_bytes`): blobs live as long as the
//! conversation, so without the second cap one member could fill the server's disk.

use ledger::Outcome;
use proto::ErrorCode;
use store::messaging::BlobRow;

use super::delivery::as_member;
use super::{bad, encode};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::session::CurrentUser;
use crate::state::AppState;

/// Keeps an encrypted attachment (already sealed by the client) for the conversation.
pub async fn put_blob(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    conversation_id: &str,
    device_id: &str,
    bytes: &[u8],
) -> AppResult<String> {
    let (_, device) = as_member(state, who, conversation_id, device_id).await?;
    let limit = state.config.messaging.max_attachment_bytes;
    if bytes.is_empty() {
        return Err(bad("The attachment is empty."));
    }
    if bytes.len() > limit {
        return Err(AppError::client(
            ErrorCode::BodyTooLarge,
            format!("Attachments are limited to {limit} bytes."),
        ));
    }
    let id = crate::setup::new_id()?;
    let row = BlobRow {
        id: id.clone(),
        conversation_id: conversation_id.to_owned(),
        device_id: device.id.clone(),
        size: i64::try_from(bytes.len()).map_err(|_| AppError::internal("blob size"))?,
        body: encode(bytes),
        created_ms: state.clock.now_ms(),
    };
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.attachment_stored",
        &format!("conversation:{conversation_id}"),
        Outcome::Success,
    )
    .detail("device", device.id.clone())
    .detail("blob", id.clone())
    .detail("bytes", bytes.len() as u64);
    let quota = state.config.messaging.max_conversation_bytes;
    // Beyond i64 nothing fits in a database column anyway: treat it as no tighter cap.
    let quota_db = i64::try_from(quota).unwrap_or(i64::MAX);
    state
        .audited(entry, async {
            if state.db.insert_blob_within(&row, quota_db).await? {
                Ok(())
            } else {
                Err(AppError::client(
                    ErrorCode::BodyTooLarge,
                    format!(
                        "This conversation's attachments are limited to {quota} bytes in all \
                         (messaging.max_conversation_bytes); this one would go over, so it was \
                         not stored."
                    ),
                ))
            }
        })
        .await?;
    Ok(id)
}

/// An encrypted attachment, for a device that is a member of its conversation.
pub async fn get_blob(
    state: &AppState,
    who: &CurrentUser,
    blob_id: &str,
    device_id: &str,
) -> AppResult<Vec<u8>> {
    let Some(blob) = state.db.blob(blob_id).await? else {
        return Err(AppError::not_found());
    };
    as_member(state, who, &blob.conversation_id, device_id).await?;
    super::decode_stored(&blob.body)
}
