public import ChainOfCustody
internal import CImageDecode

/// Decoded pixels: packed RGB8, rows top to bottom.
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    /// The PDQ hash of these pixels.
    public var pdq: PDQHash { PDQ.hash(rgb: pixels, width: width, height: height) }

    /// The PDQ hashes of these pixels in all eight orientations (`PDQOrientation` order; the first is `pdq`).
    public var dihedralPDQ: [PDQHash] {
        pixels.withUnsafeBufferPointer { PDQ.dihedralHashes(rgb: $0, width: width, height: height) }
    }
}

/// JPEG, PNG and WebP decoding through libjpeg-turbo, libpng and libwebp
/// (`CImageDecode`), with a pixel limit against decompression bombs.
public enum ImageDecoder {
    /// 100 megapixels: larger than any camera photo, and the most a hash is worth
    /// ~1 GiB of working memory for (3 bytes a pixel decoded, 8 for PDQ's two float planes).
    public static let defaultPixelLimit = 100_000_000

    /// The format the first bytes announce, or nil.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        switch bytes.withUnsafeBufferPointer({ exhibit_image_sniff($0.baseAddress, $0.count) }) {
        case EXHIBIT_IMAGE_FORMAT_JPEG: "jpeg"
        case EXHIBIT_IMAGE_FORMAT_PNG: "png"
        case EXHIBIT_IMAGE_FORMAT_WEBP: "webp"
        default: nil
        }
    }

    /// Decodes a whole image file held in memory. Throws (`.storage`) with the
    /// decoder's reason for a stream that is not an image, is corrupt or too large.
    public static func decode(_ bytes: [UInt8], pixelLimit: Int = defaultPixelLimit) throws(ExhibitError) -> RGBImage {
        try withDecoded(bytes, pixelLimit: pixelLimit) { pixels, width, height in
            RGBImage(width: width, height: height, pixels: Array(pixels))
        }
    }

    /// The PDQ hash of an image file held in memory, hashed from the decoder's own
    /// buffer (no copy of the pixels).
    public static func pdq(of bytes: [UInt8], pixelLimit: Int = defaultPixelLimit) throws(ExhibitError) -> PDQHash {
        try withDecoded(bytes, pixelLimit: pixelLimit) { pixels, width, height in
            PDQ.hash(rgb: pixels, width: width, height: height)
        }
    }

    /// Decodes `bytes` and lends the packed RGB8 pixels to `body`, freeing them after.
    static func withDecoded<T>(_ bytes: [UInt8], pixelLimit: Int,
                               _ body: (UnsafeBufferPointer<UInt8>, Int, Int) -> T) throws(ExhibitError) -> T {
        var rgb: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0, height: UInt32 = 0
        var format = EXHIBIT_IMAGE_FORMAT_NONE
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { data in
            exhibit_image_decode(data.baseAddress, data.count, UInt64(pixelLimit), &rgb, &width, &height, &format, &message, message.count)
        }
        guard status == EXHIBIT_IMAGE_OK, let rgb else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ExhibitError(.storage, "The image cannot be decoded: \(reason.isEmpty ? "unknown error" : reason).")
        }
        defer { exhibit_image_free(rgb) }
        let count = Int(width) * Int(height) * 3
        return body(UnsafeBufferPointer(start: rgb, count: count), Int(width), Int(height))
    }
}
