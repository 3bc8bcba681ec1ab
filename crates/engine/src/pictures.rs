//! Pictures sent from outside (proofs of transfer, product photos): decoded within bounds, so a
//! small file that claims to be a huge picture (a decompression bomb) is refused before it is
//! decoded; turned upright by their orientation tag; scaled; encoded anew, which leaves every
//! byte of metadata (a phone's position, its camera) behind. CPU-bound: callers run these off
//! the async threads.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use lunas_core::proofs::{ProofFormat, ProofRefusal};

/// Why a sent file was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is larger than 5 MB")]
    TooLarge,
    #[error("the file is empty")]
    Empty,
    #[error("only JPEG, PNG or WebP pictures and PDF documents are taken")]
    NotAccepted,
    #[error("the picture could not be read")]
    Unreadable,
    #[error(transparent)]
    Refused(#[from] ProofRefusal),
    /// More photos than a return request carries.
    #[error("at most 3 photos")]
    TooMany,
}

impl FileError {
    /// The stable code of the refusal.
    pub fn code(self) -> &'static str {
        match self {
            FileError::TooLarge => "file_too_large",
            FileError::Empty => "file_empty",
            FileError::NotAccepted => "file_type_not_accepted",
            FileError::Unreadable => "file_unreadable",
            FileError::Refused(refusal) => refusal.code(),
            FileError::TooMany => "too_many_files",
        }
    }
}

/// Largest picture decoded, in pixels per side and bytes of memory.
const DECODE_SIDE_MAX: u32 = 12_000;
const DECODE_ALLOC_MAX: u64 = 256 << 20;

/// Decodes a JPEG, PNG or WebP picture within bounds and turns it upright.
pub(crate) fn decode(bytes: &[u8], format: ProofFormat) -> Result<DynamicImage, FileError> {
    let decode_as = match format {
        ProofFormat::Jpeg => ImageFormat::Jpeg,
        ProofFormat::Png => ImageFormat::Png,
        ProofFormat::Webp => ImageFormat::WebP,
        ProofFormat::Pdf => return Err(FileError::NotAccepted),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(DECODE_SIDE_MAX);
    limits.max_image_height = Some(DECODE_SIDE_MAX);
    limits.max_alloc = Some(DECODE_ALLOC_MAX);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), decode_as);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| FileError::Unreadable)?;
    let orientation = decoder.orientation().map_err(|_| FileError::Unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| FileError::Unreadable)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

/// The picture scaled down so its longer side is at most `side` (a smaller one is kept).
pub(crate) fn fit(picture: DynamicImage, side: u32) -> DynamicImage {
    if picture.width().max(picture.height()) > side {
        picture.resize(side, side, image::imageops::FilterType::Triangle)
    } else {
        picture
    }
}

/// Encodes a picture as JPEG (without alpha) or PNG.
pub(crate) fn encode(picture: DynamicImage, format: ImageFormat) -> Result<Vec<u8>, FileError> {
    let picture = if format == ImageFormat::Jpeg {
        DynamicImage::ImageRgb8(picture.to_rgb8())
    } else {
        picture
    };
    let mut body = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut body), format)
        .map_err(|_| FileError::Unreadable)?;
    Ok(body)
}

/// The sizes a product photo is kept in, by name, with their longer side: `s` for the
/// catalogue's list, `m` for a product's page, `l` to zoom.
pub const PHOTO_SIZES: [(&str, u32); 3] = [("s", 320), ("m", 640), ("l", 1280)];

/// A product photo from a seller's upload: each of `PHOTO_SIZES` as a JPEG.
pub fn product_photo(bytes: &[u8]) -> Result<Vec<(&'static str, Vec<u8>)>, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    if bytes.len() > lunas_core::proofs::PROOF_BYTES_MAX {
        return Err(FileError::TooLarge);
    }
    let format = ProofFormat::sniff(bytes).ok_or(FileError::NotAccepted)?;
    let picture = decode(bytes, format)?;
    PHOTO_SIZES
        .iter()
        .map(|(name, side)| {
            let sized = fit(picture.clone(), *side);
            Ok((*name, encode(sized, ImageFormat::Jpeg)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_is_kept_in_three_sizes() {
        let picture = image::RgbImage::from_pixel(2000, 1000, image::Rgb([200, 150, 90]));
        let mut png = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let sizes = product_photo(&png).unwrap();
        let sides: Vec<(&str, u32, u32)> = sizes
            .iter()
            .map(|(name, body)| {
                let back = image::load_from_memory(body).unwrap();
                (*name, back.width(), back.height())
            })
            .collect();
        assert_eq!(sides, [("s", 320, 160), ("m", 640, 320), ("l", 1280, 640)]);
        assert!(sizes.iter().all(|(_, b)| b.starts_with(&[0xFF, 0xD8])));
        assert_eq!(product_photo(b"%PDF-1.4"), Err(FileError::NotAccepted));
    }
}
