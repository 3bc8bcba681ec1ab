//! Proofs of transfer sent from the buyer's order page: the file checked by its content (an
//! image decoded within bounds and encoded again, which leaves its metadata behind; a PDF kept
//! as sent), then kept with a review item for staff, in one transaction with the order locked.

use image::ImageFormat;
use lunas_core::ledger::{NewPayment, ReviewKind};
use lunas_core::payments::PaymentSource;
use lunas_core::proofs::{PROOF_BYTES_MAX, ProofFormat, ProofRefusal, ProofStatus, decide_proof};

use crate::pictures::FileError;
use lunas_core::{Actor, Money, Order, OrderId, Timestamp};
use lunas_store::{StoredProof, Tx, TxResult};
use sha2::{Digest, Sha256};

use crate::{Engine, Error};

/// Longest side a proof's picture is kept at; larger photos are scaled down (a bank's screen
/// stays readable).
const SIDE_MAX: u32 = 2400;

/// A file made ready to keep: what it is and its bytes (an image encoded anew).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanFile {
    pub format: ProofFormat,
    pub body: Vec<u8>,
}

/// Checks a sent file by its content and makes it ready to keep: JPEG stays JPEG, PNG and WebP
/// become PNG (lossless), each decoded and encoded again without its metadata (a photo's place and
/// camera), turned upright by its orientation tag first and scaled down past `SIDE_MAX`.
/// CPU-bound: run it off the async threads.
pub fn clean_file(bytes: &[u8]) -> Result<CleanFile, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() > PROOF_BYTES_MAX {
        return Err(FileError::TooLarge);
    }
    let format = ProofFormat::sniff(bytes).ok_or(FileError::NotAccepted)?;
    if format == ProofFormat::Pdf {
        return Ok(CleanFile {
            format,
            body: bytes.to_vec(),
        });
    }
    let picture = crate::pictures::decode(bytes, format)?;
    let picture = crate::pictures::fit(picture, SIDE_MAX);
    let (format, encode_as) = match format {
        ProofFormat::Jpeg => (ProofFormat::Jpeg, ImageFormat::Jpeg),
        _ => (ProofFormat::Png, ImageFormat::Png),
    };
    let body = crate::pictures::encode(picture, encode_as)?;
    Ok(CleanFile { format, body })
}

/// Keeps a proof for order `id` if it still takes one: the file, the order's proof columns and a
/// review item for what is left to pay, all in the transaction that locked the order.
pub(crate) fn submit(
    tx: &mut Tx<'_>,
    id: OrderId,
    file: &CleanFile,
    sha256: &str,
    now: Timestamp,
) -> TxResult<Result<(), ProofRefusal>> {
    let Some(target) = tx.proof_target(id)? else {
        return Err(Tx::corrupt(format!("order {id} went as a proof arrived")));
    };
    if let Err(refused) = decide_proof(target.status, target.method, target.sent) {
        return Ok(Err(refused));
    }
    let proof_id = tx.insert_proof(id, now, file.format, sha256, &file.body)?;
    // What the buyer was asked to pay is what staff look for in the bank.
    let review = NewPayment {
        amount: Money::from_stored(target.left.max(0)),
        reference: None,
        actor: Actor::system(),
        recorded_at: now,
        source: PaymentSource::Staff,
        external_id: Some(format!("proof:{proof_id}")),
        exact_amount: false,
    };
    let detail = serde_json::json!({
        "proof_id": proof_id,
        "content_type": file.format.content_type(),
        "bytes": file.body.len(),
        "description": format!("bukti transfer #{proof_id}"),
    });
    tx.add_review(ReviewKind::ProofOfTransfer, &review, Some(id), &detail)?;
    Ok(Ok(()))
}

/// The order was paid (by any path): the proofs of it that waited for staff are closed, and
/// `order`, as read in this transaction, says so.
pub(crate) fn settle_if_waiting(
    tx: &mut Tx<'_>,
    order: &mut Order,
    now: Timestamp,
) -> TxResult<()> {
    if let Some(proof) = &mut order.proof
        && proof.status == ProofStatus::Submitted
    {
        tx.settle_proofs(order.id, now)?;
        proof.status = ProofStatus::Confirmed;
    }
    Ok(())
}

impl Engine {
    /// Takes a proof of transfer for the order whose page `token` opens. The file is checked and
    /// cleaned off the async threads; the order is then locked and asked again whether it takes
    /// one, so two uploads at once cannot pass the limit.
    pub async fn submit_proof(&self, token: &str, bytes: Vec<u8>) -> Result<Order, Error> {
        let order = self
            .order_by_token(token)
            .await?
            .ok_or(lunas_core::placing::OrderOpError::NotFound)?;
        let sent = order.proof.map_or(0, |p| p.count);
        decide_proof(order.status, order.payment_method, sent).map_err(FileError::from)?;
        let file = tokio::task::spawn_blocking(move || clean_file(&bytes))
            .await
            .map_err(|e| Error::Store(lunas_store::StoreError::Internal(e.to_string())))??;
        let sha256 = hex::encode(Sha256::digest(&file.body));
        let (id, now) = (order.id, self.now());
        self.store
            .transact(move |tx| submit(tx, id, &file, &sha256, now))
            .await?
            .map_err(FileError::from)?;
        Ok(self
            .store
            .order(id)
            .await?
            .ok_or(lunas_core::placing::OrderOpError::NotFound)?)
    }

    /// A proof of transfer with its file, for staff.
    pub async fn proof(&self, id: i64) -> Result<Option<StoredProof>, Error> {
        Ok(self.store.proof(id).await?)
    }

    /// An order's proofs, oldest first, without their files: id, when, content type, size.
    pub async fn proofs_of(
        &self,
        order: OrderId,
    ) -> Result<Vec<(i64, Timestamp, String, i64)>, Error> {
        Ok(self.store.proofs_of(order).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut body = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut body), ImageFormat::Png)
            .unwrap();
        body
    }

    #[test]
    fn pictures_are_encoded_again_and_large_ones_scaled_down() {
        let clean = clean_file(&png(40, 30)).unwrap();
        assert_eq!(clean.format, ProofFormat::Png);
        let back = image::load_from_memory(&clean.body).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30));
        let big = clean_file(&png(3000, 1000)).unwrap();
        let back = image::load_from_memory(&big.body).unwrap();
        assert_eq!((back.width(), back.height()), (2400, 800));
    }

    #[test]
    fn a_jpeg_loses_its_metadata() {
        let picture = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 10, 10]));
        let mut jpeg = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        // An APP1 segment (where EXIF lives, with a phone's GPS position) right after SOI.
        let secret = b"Exif\0\0GPS-POSITION-OF-THE-BUYER";
        let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
        with_exif.extend_from_slice(&((secret.len() + 2) as u16).to_be_bytes());
        with_exif.extend_from_slice(secret);
        with_exif.extend_from_slice(&jpeg[2..]);
        let clean = clean_file(&with_exif).unwrap();
        assert_eq!(clean.format, ProofFormat::Jpeg);
        assert!(
            !clean.body.windows(12).any(|w| w == b"GPS-POSITION"),
            "the metadata went"
        );
        assert!(image::load_from_memory(&clean.body).is_ok());
    }

    #[test]
    fn other_files_and_broken_pictures_are_refused() {
        assert_eq!(clean_file(b""), Err(FileError::Empty));
        assert_eq!(clean_file(b"<html><script>"), Err(FileError::NotAccepted));
        assert_eq!(clean_file(b"GIF89a...."), Err(FileError::NotAccepted));
        assert_eq!(
            clean_file(b"\x89PNG\r\n\x1a\nnot really"),
            Err(FileError::Unreadable)
        );
        assert_eq!(
            clean_file(&vec![0xFF; PROOF_BYTES_MAX + 1]),
            Err(FileError::TooLarge)
        );
        let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n";
        assert_eq!(clean_file(pdf).unwrap().body, pdf.to_vec());
    }

    #[test]
    fn a_picture_that_claims_to_be_huge_is_refused_before_decoding() {
        // A valid PNG header claiming 50,000 × 50,000 pixels, with no data behind it.
        let mut header = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        header.extend_from_slice(&50_000u32.to_be_bytes());
        header.extend_from_slice(&50_000u32.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, 0]);
        let crc = crc32(&header[12..]);
        header.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(clean_file(&header), Err(FileError::Unreadable));
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
