//! Secure messaging storage: MLS devices, key packages, conversations (groups), their
//! members, and what is delivered in them — all as opaque ciphertext.
//!
//! Ordering lives here because it must be atomic: a commit is accepted only if the
//! conversation is still at the commit's epoch (`UPDATE … WHERE epoch = $n`), so of two
//! commits made for one epoch exactly one wins, on SQLite and PostgreSQL alike. An
//! application message is numbered by the same statement, so it is accepted only in
//! the epoch it was encrypted for.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError};

/// One MLS member: a browser or client of an account, or the practice's archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: String,
    pub user_id: String,
    /// `member` or `archive`.
    pub kind: String,
    pub label: String,
    /// Ed25519 public key, hex.
    pub signature_key: String,
    /// The ledger entry that published the key (key transparency).
    pub ledger_seq: i64,
    pub created_ms: i64,
    pub removed_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    pub id: String,
    /// The MLS group id, hex.
    pub group_id: String,
    pub patient_id: String,
    pub created_by: String,
    pub created_ms: i64,
    pub epoch: i64,
    pub next_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub device_id: String,
    pub user_id: String,
    pub kind: String,
    pub added_ms: i64,
    /// The first sequence number the device may read.
    pub added_seq: i64,
    pub removed_ms: Option<i64>,
    /// When the device itself was removed from the account (it must leave every group).
    pub device_removed_ms: Option<i64>,
    /// The device's leaf index in the MLS ratchet tree; None for members of
    /// conversations started before leaves were kept.
    pub leaf_index: Option<i64>,
}

/// A commit or application message, as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub conversation_id: String,
    pub seq: i64,
    /// `commit` or `application`.
    pub kind: String,
    pub epoch: i64,
    pub sender_device: String,
    /// The MLS message, base64.
    pub body: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeRow {
    pub id: String,
    pub conversation_id: String,
    pub device_id: String,
    /// The device reads the conversation from this sequence number on.
    pub seq: i64,
    pub body: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    pub id: String,
    pub conversation_id: String,
    pub device_id: String,
    pub size: i64,
    /// The encrypted file, base64.
    pub body: String,
    pub created_ms: i64,
}

/// A device added by a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedDevice {
    /// The id of its Welcome row.
    pub welcome_id: String,
    pub device_id: String,
    /// The leaf the commit gives it.
    pub leaf_index: i64,
}

/// An accepted commit: who it adds (with their Welcome) and who it removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitChange<'a> {
    pub sender_device: &'a str,
    pub body: &'a str,
    /// Each added device; they share `welcome`.
    pub added: &'a [AddedDevice],
    /// Who the added devices' key packages were handed out to (`claimed_by`); they
    /// are marked used.
    pub claimant: &'a str,
    pub welcome: Option<&'a str>,
    pub removed: &'a [String],
}

macro_rules! device_columns {
    () => {
        "id, user_id, kind, label, signature_key, ledger_seq, created_ms, removed_ms"
    };
}
macro_rules! conversation_columns {
    () => {
        "id, group_id, patient_id, created_by, created_ms, epoch, next_seq"
    };
}

fn device_from(r: &AnyRow) -> Result<DeviceRow, StoreError> {
    Ok(DeviceRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        label: r.try_get("label")?,
        signature_key: r.try_get("signature_key")?,
        ledger_seq: r.try_get("ledger_seq")?,
        created_ms: r.try_get("created_ms")?,
        removed_ms: r.try_get("removed_ms")?,
    })
}

fn conversation_from(r: &AnyRow) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        patient_id: r.try_get("patient_id")?,
        created_by: r.try_get("created_by")?,
        created_ms: r.try_get("created_ms")?,
        epoch: r.try_get("epoch")?,
        next_seq: r.try_get("next_seq")?,
    })
}

fn message_from(r: &AnyRow) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        conversation_id: r.try_get("conversation_id")?,
        seq: r.try_get("seq")?,
        kind: r.try_get("kind")?,
        epoch: r.try_get("epoch")?,
        sender_device: r.try_get("sender_device")?,
        body: r.try_get("body")?,
        created_ms: r.try_get("created_ms")?,
    })
}

/// A commit or application message about to be numbered and stored.
struct NewMessage<'a> {
    conversation_id: &'a str,
    /// `commit` (moves the epoch on) or `application`.
    kind: &'static str,
    epoch: i64,
    sender_device: &'a str,
    body: &'a str,
    now_ms: i64,
}

/// Numbers and stores `m` if the conversation is still at `m.epoch` (a commit also moves
/// the epoch on); its sequence number, or None when the epoch has moved on. One
/// conditional update decides, so of two racing commits exactly one gets the epoch.
async fn append(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    m: &NewMessage<'_>,
) -> Result<Option<i64>, StoreError> {
    let sql = if m.kind == "commit" {
        "UPDATE msg_conversations SET epoch = epoch + 1, next_seq = next_seq + 1 \
         WHERE id = $1 AND epoch = $2 RETURNING next_seq"
    } else {
        "UPDATE msg_conversations SET next_seq = next_seq + 1 \
         WHERE id = $1 AND epoch = $2 RETURNING next_seq"
    };
    let Some(row) = sqlx::query(sql)
        .bind(m.conversation_id)
        .bind(m.epoch)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let seq: i64 = row.try_get::<i64, _>("next_seq")? - 1;
    sqlx::query(
        "INSERT INTO msg_messages (conversation_id, seq, kind, epoch, sender_device, body, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.conversation_id)
    .bind(seq)
    .bind(m.kind)
    .bind(m.epoch)
    .bind(m.sender_device)
    .bind(m.body)
    .bind(m.now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(Some(seq))
}

impl Db {
    pub async fn insert_msg_device(&self, d: &DeviceRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO msg_devices (id, user_id, kind, label, signature_key, ledger_seq, \
             created_ms, removed_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&d.id)
        .bind(&d.user_id)
        .bind(&d.kind)
        .bind(&d.label)
        .bind(&d.signature_key)
        .bind(d.ledger_seq)
        .bind(d.created_ms)
        .bind(d.removed_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn msg_device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM msg_devices WHERE id = $1"
        );
        sqlx::query(sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(device_from)
            .transpose()
    }

    /// An account's devices that have not been removed, oldest first.
    pub async fn msg_devices_of_user(&self, user_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM msg_devices WHERE user_id = $1 AND removed_ms IS NULL ORDER BY created_ms, id"
        );
        sqlx::query(sql)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(device_from)
            .collect()
    }

    /// The practice archive's devices that have not been removed.
    pub async fn msg_archive_devices(&self) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            device_columns!(),
            " FROM msg_devices WHERE kind = 'archive' AND removed_ms IS NULL ORDER BY created_ms, id"
        );
        sqlx::query(sql)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(device_from)
            .collect()
    }

    /// Marks a device removed and drops its unclaimed key packages; false if it was
    /// already removed. Its groups see it as a member to remove from then on.
    pub async fn remove_msg_device(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let n = sqlx::query(
            "UPDATE msg_devices SET removed_ms = $1 WHERE id = $2 AND removed_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM msg_key_packages WHERE device_id = $1 AND claimed_ms IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Stores key packages `(id, body)` uploaded by `device_id`.
    pub async fn insert_key_packages(
        &self,
        device_id: &str,
        packages: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for (id, body) in packages {
            sqlx::query(
                "INSERT INTO msg_key_packages (id, device_id, body, created_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(device_id)
            .bind(body)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many of the device's key packages are still unclaimed.
    pub async fn free_key_packages(&self, device_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM msg_key_packages WHERE device_id = $1 AND claimed_ms IS NULL",
        )
        .bind(device_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Hands out a key package of `device_id` to `claimed_by`: the one it was given
    /// before if any, else an unclaimed one (each exactly once, also under concurrent
    /// claims); None when the device has none left.
    pub async fn claim_key_package(
        &self,
        device_id: &str,
        claimed_by: &str,
        now_ms: i64,
    ) -> Result<Option<String>, StoreError> {
        let before: Option<String> = sqlx::query_scalar(
            "SELECT body FROM msg_key_packages WHERE device_id = $1 AND claimed_by = $2 \
             ORDER BY claimed_ms, id LIMIT 1",
        )
        .bind(device_id)
        .bind(claimed_by)
        .fetch_optional(self.pool())
        .await?;
        if before.is_some() {
            return Ok(before);
        }
        for _ in 0..8 {
            let Some(row) = sqlx::query(
                "SELECT id, body FROM msg_key_packages WHERE device_id = $1 AND claimed_ms IS NULL \
                 ORDER BY created_ms, id LIMIT 1",
            )
            .bind(device_id)
            .fetch_optional(self.pool())
            .await?
            else {
                return Ok(None);
            };
            let id: String = row.try_get("id")?;
            let taken = sqlx::query(
                "UPDATE msg_key_packages SET claimed_ms = $1, claimed_by = $2 \
                 WHERE id = $3 AND claimed_ms IS NULL",
            )
            .bind(now_ms)
            .bind(claimed_by)
            .bind(&id)
            .execute(self.pool())
            .await?
            .rows_affected();
            if taken == 1 {
                return Ok(Some(row.try_get("body")?));
            }
        }
        Ok(None)
    }

    /// The key packages of `device_id` handed out to `claimed_by` (base64, as uploaded),
    /// oldest first: a commit may add the device only with one of these.
    pub async fn claimed_key_packages(
        &self,
        device_id: &str,
        claimed_by: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT body FROM msg_key_packages WHERE device_id = $1 AND claimed_by = $2 \
             ORDER BY claimed_ms, id",
        )
        .bind(device_id)
        .bind(claimed_by)
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates a conversation whose group holds only its creator's device (leaf 0), at
    /// epoch 0.
    pub async fn insert_conversation(
        &self,
        c: &ConversationRow,
        creator_device: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO msg_conversations (id, group_id, patient_id, created_by, created_ms, \
             epoch, next_seq) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.group_id)
        .bind(&c.patient_id)
        .bind(&c.created_by)
        .bind(c.created_ms)
        .bind(c.epoch)
        .bind(c.next_seq)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO msg_members (conversation_id, device_id, added_ms, added_seq, leaf_index) \
             VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(&c.id)
        .bind(creator_device)
        .bind(c.created_ms)
        .bind(c.next_seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRow>, StoreError> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM msg_conversations WHERE id = $1"
        );
        sqlx::query(sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(conversation_from)
            .transpose()
    }

    /// The conversations `device_id` is a current member of, newest first.
    pub async fn conversations_of_device(
        &self,
        device_id: &str,
    ) -> Result<Vec<ConversationRow>, StoreError> {
        let sql = "SELECT c.id, c.group_id, c.patient_id, c.created_by, c.created_ms, c.epoch, \
                   c.next_seq FROM msg_conversations c JOIN msg_members m ON m.conversation_id = c.id \
                   WHERE m.device_id = $1 AND m.removed_ms IS NULL ORDER BY c.created_ms DESC, c.id";
        sqlx::query(sql)
            .bind(device_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(conversation_from)
            .collect()
    }

    /// The conversation's members, current and past, with their devices' state.
    pub async fn conversation_members(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<MemberRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.device_id, d.user_id, d.kind, m.added_ms, m.added_seq, m.removed_ms, \
             d.removed_ms AS device_removed_ms, m.leaf_index FROM msg_members m \
             JOIN msg_devices d ON d.id = m.device_id WHERE m.conversation_id = $1 \
             ORDER BY m.added_seq, m.device_id",
        )
        .bind(conversation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    device_id: r.try_get("device_id")?,
                    user_id: r.try_get("user_id")?,
                    kind: r.try_get("kind")?,
                    added_ms: r.try_get("added_ms")?,
                    added_seq: r.try_get("added_seq")?,
                    removed_ms: r.try_get("removed_ms")?,
                    device_removed_ms: r.try_get("device_removed_ms")?,
                    leaf_index: r.try_get("leaf_index")?,
                })
            })
            .collect()
    }

    /// Accepts a commit made in `epoch` if the conversation is still at that epoch:
    /// stores it, moves the epoch on, adds and removes members and stores the Welcome
    /// for each added device, all in one transaction. None when another commit took the
    /// epoch first (nothing is stored).
    pub async fn accept_commit(
        &self,
        conversation_id: &str,
        epoch: i64,
        change: &CommitChange<'_>,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let message = NewMessage {
            conversation_id,
            kind: "commit",
            epoch,
            sender_device: change.sender_device,
            body: change.body,
            now_ms,
        };
        let Some(seq) = append(&mut tx, &message).await? else {
            return Ok(None);
        };
        for device in change.removed {
            sqlx::query(
                "UPDATE msg_members SET removed_ms = $1 WHERE conversation_id = $2 \
                 AND device_id = $3 AND removed_ms IS NULL",
            )
            .bind(now_ms)
            .bind(conversation_id)
            .bind(device)
            .execute(&mut *tx)
            .await?;
            // A removed member's Welcome can no longer be used (welcomes() hands out only
            // a current member's), so it goes with the membership.
            sqlx::query("DELETE FROM msg_welcomes WHERE conversation_id = $1 AND device_id = $2")
                .bind(conversation_id)
                .bind(device)
                .execute(&mut *tx)
                .await?;
        }
        for added in change.added {
            // The key packages handed out for this device are used up: a later claim
            // (to add it again after a removal) gets a fresh one, and a commit cannot
            // add it again with an old one.
            sqlx::query(
                "UPDATE msg_key_packages SET claimed_by = claimed_by || ':used' \
                 WHERE device_id = $1 AND claimed_by = $2",
            )
            .bind(&added.device_id)
            .bind(change.claimant)
            .execute(&mut *tx)
            .await?;
            // A device added again after removal starts over from this commit.
            sqlx::query("DELETE FROM msg_members WHERE conversation_id = $1 AND device_id = $2")
                .bind(conversation_id)
                .bind(&added.device_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO msg_members (conversation_id, device_id, added_ms, added_seq, \
                 leaf_index) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(conversation_id)
            .bind(&added.device_id)
            .bind(now_ms)
            .bind(seq + 1)
            .bind(added.leaf_index)
            .execute(&mut *tx)
            .await?;
            if let Some(welcome) = change.welcome {
                sqlx::query(
                    "INSERT INTO msg_welcomes (id, conversation_id, device_id, seq, body, created_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&added.welcome_id)
                .bind(conversation_id)
                .bind(&added.device_id)
                .bind(seq + 1)
                .bind(welcome)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(seq))
    }

    /// Stores an application message encrypted in `epoch`, if that is still the
    /// conversation's epoch; its sequence number, or None when the epoch has moved on.
    pub async fn append_application(
        &self,
        conversation_id: &str,
        epoch: i64,
        sender_device: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let message = NewMessage {
            conversation_id,
            kind: "application",
            epoch,
            sender_device,
            body,
            now_ms,
        };
        let seq = append(&mut tx, &message).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Messages of a conversation with `seq` from `from` on, oldest first, at most `limit`.
    pub async fn messages_from(
        &self,
        conversation_id: &str,
        from: i64,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        sqlx::query(
            "SELECT conversation_id, seq, kind, epoch, sender_device, body, created_ms \
             FROM msg_messages WHERE conversation_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
        )
        .bind(conversation_id)
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(message_from)
        .collect()
    }

    /// Welcomes waiting for `device_id`, oldest first.
    pub async fn welcomes_for(&self, device_id: &str) -> Result<Vec<WelcomeRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, conversation_id, device_id, seq, body, created_ms FROM msg_welcomes \
             WHERE device_id = $1 ORDER BY created_ms, id",
        )
        .bind(device_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WelcomeRow {
                    id: r.try_get("id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    device_id: r.try_get("device_id")?,
                    seq: r.try_get("seq")?,
                    body: r.try_get("body")?,
                    created_ms: r.try_get("created_ms")?,
                })
            })
            .collect()
    }

    /// Stores the blob only if the conversation's blobs, this one included, stay within
    /// `max_conversation_bytes`: the sum and the insert are one statement, so a refusal
    /// stores nothing. False when the quota would be exceeded.
    pub async fn insert_blob_within(
        &self,
        b: &BlobRow,
        max_conversation_bytes: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "INSERT INTO msg_blobs (id, conversation_id, device_id, size, body, created_ms) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE \
             (SELECT COALESCE(SUM(size), 0) FROM msg_blobs WHERE conversation_id = $7) + $8 <= $9",
        )
        .bind(&b.id)
        .bind(&b.conversation_id)
        .bind(&b.device_id)
        .bind(b.size)
        .bind(&b.body)
        .bind(b.created_ms)
        .bind(&b.conversation_id)
        .bind(b.size)
        .bind(max_conversation_bytes)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Bytes of attachments the conversation holds.
    pub async fn conversation_blob_bytes(&self, conversation_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM msg_blobs WHERE conversation_id = $1",
        )
        .bind(conversation_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// How many conversations `user_id` started at or after `since_ms`.
    pub async fn conversations_started_since(
        &self,
        user_id: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM msg_conversations WHERE created_by = $1 AND created_ms >= $2",
        )
        .bind(user_id)
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?)
    }

    /// Deletes `device_id`'s Welcomes for the conversation once it has joined: it reads
    /// the group's messages, so the Welcome will never be needed again. The number deleted.
    pub async fn delete_welcomes(
        &self,
        conversation_id: &str,
        device_id: &str,
    ) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM msg_welcomes WHERE conversation_id = $1 AND device_id = $2")
                .bind(conversation_id)
                .bind(device_id)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    pub async fn blob(&self, id: &str) -> Result<Option<BlobRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, conversation_id, device_id, size, body, created_ms FROM msg_blobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(BlobRow {
                id: r.try_get("id")?,
                conversation_id: r.try_get("conversation_id")?,
                device_id: r.try_get("device_id")?,
                size: r.try_get("size")?,
                body: r.try_get("body")?,
                created_ms: r.try_get("created_ms")?,
            })
        })
        .transpose()
    }
}
