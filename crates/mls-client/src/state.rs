//! The byte format of a saved device (see [`crate::Device::export_state`]).
//!
//! `TWMLS\0\0\x01` then length-prefixed fields (u32, big-endian): the credential identity,
//! the signature public key, the group ids, and every key/value pair of the OpenMLS
//! storage (which holds the signer's private key, the key package private keys and all
//! group secrets). The format is deliberately dumb: the storage values are OpenMLS's own
//! serialisation and are copied back byte for byte.

use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"TWMLS\0\0\x01";

/// The parts of a saved device.
#[derive(Debug, Default)]
pub(crate) struct SavedState {
    pub credential: Vec<u8>,
    pub signature_key: Vec<u8>,
    pub groups: Vec<Vec<u8>>,
    pub storage: Vec<(Vec<u8>, Vec<u8>)>,
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| Error::State("a value is too large".into()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_count(out: &mut Vec<u8>, n: usize) -> Result<()> {
    let n = u32::try_from(n).map_err(|_| Error::State("too many entries".into()))?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(Error::State("the data is truncated".into()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<usize> {
        let b = self.take(4)?;
        let arr: [u8; 4] = b
            .try_into()
            .map_err(|_| Error::State("the data is truncated".into()))?;
        usize::try_from(u32::from_be_bytes(arr))
            .map_err(|_| Error::State("a length does not fit".into()))
    }

    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.u32()?;
        Ok(self.take(n)?.to_vec())
    }
}

impl SavedState {
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        put(&mut out, &self.credential)?;
        put(&mut out, &self.signature_key)?;
        put_count(&mut out, self.groups.len())?;
        for g in &self.groups {
            put(&mut out, g)?;
        }
        put_count(&mut out, self.storage.len())?;
        for (k, v) in &self.storage {
            put(&mut out, k)?;
            put(&mut out, v)?;
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(Error::State(
                "not a Telewarden device state, or an unsupported version".into(),
            ));
        }
        let credential = r.bytes()?;
        let signature_key = r.bytes()?;
        let n = r.u32()?;
        let mut groups = Vec::new();
        for _ in 0..n {
            groups.push(r.bytes()?);
        }
        let n = r.u32()?;
        let mut storage = Vec::new();
        for _ in 0..n {
            let k = r.bytes()?;
            let v = r.bytes()?;
            storage.push((k, v));
        }
        if !r.0.is_empty() {
            return Err(Error::State("unexpected bytes after the end".into()));
        }
        Ok(Self {
            credential,
            signature_key,
            groups,
            storage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let s = SavedState {
            credential: b"tw1:a:b".to_vec(),
            signature_key: vec![1; 32],
            groups: vec![vec![2; 16]],
            storage: vec![(vec![3], vec![4, 5])],
        };
        let bytes = s.encode().unwrap();
        let d = SavedState::decode(&bytes).unwrap();
        assert_eq!(d.groups, s.groups);
        assert_eq!(d.storage, s.storage);
        for cut in 0..bytes.len() {
            assert!(SavedState::decode(&bytes[..cut]).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(SavedState::decode(&longer).is_err());
        // A huge declared length must fail cleanly, not allocate.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(SavedState::decode(&huge).is_err());
    }
}
