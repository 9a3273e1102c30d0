/// The eight ways a picture can be turned or mirrored without resampling (the
/// dihedral group of the square), as PDQ's reference orders them
/// (`pdqHash256sFromFloatLuma`, and `pdqhash.compute_dihedral`).
///
/// A turned or mirrored copy hashes far from the original (about 128 bits, as an
/// unrelated picture does), but its DCT is the original's with coefficients
/// transposed and signs changed: mirroring left to right negates every coefficient
/// of odd horizontal frequency, flipping top to bottom those of odd vertical
/// frequency, and a transpose swaps the two frequencies. So one analysis yields all
/// eight hashes, and a search with each finds copies in any of these orientations.
public enum PDQOrientation: Int, Sendable, CaseIterable {
    case original, rotated90CounterClockwise, rotated180, rotated90Clockwise
    case flippedTopToBottom, mirroredLeftToRight, transposed, antiTransposed

    /// How a match in this orientation is told: the copy is the query's picture so turned.
    public var description: String {
        switch self {
        case .original: "same orientation"
        case .rotated90CounterClockwise: "rotated 90° counter-clockwise"
        case .rotated180: "rotated 180°"
        case .rotated90Clockwise: "rotated 90° clockwise"
        case .flippedTopToBottom: "flipped top to bottom"
        case .mirroredLeftToRight: "mirrored left to right"
        case .transposed: "transposed (mirrored about the main diagonal)"
        case .antiTransposed: "anti-transposed (mirrored about the other diagonal)"
        }
    }

    /// The picture's operations in order: transpose, then mirror left to right, then flip top to bottom.
    var operations: (transpose: Bool, mirror: Bool, flip: Bool) {
        switch self {
        case .original: (false, false, false)
        case .rotated90CounterClockwise: (true, false, true)
        case .rotated180: (false, true, true)
        case .rotated90Clockwise: (true, true, false)
        case .flippedTopToBottom: (false, false, true)
        case .mirroredLeftToRight: (false, true, false)
        case .transposed: (true, false, false)
        case .antiTransposed: (true, true, true)
        }
    }
}

extension PDQ {
    /// The hashes of the picture in all eight orientations, in `PDQOrientation`
    /// order (the first is `hash`); all zero for an image below the minimum size.
    public static func dihedralHashes(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> [PDQHash] {
        guard let (coefficients, quality) = transform(rgb: rgb, width: width, height: height) else {
            return Array(repeating: zero, count: PDQOrientation.allCases.count)
        }
        return PDQOrientation.allCases.map { hash(coefficients: oriented(coefficients, $0), quality: quality) }
    }

    /// The 16×16 coefficients of the picture turned as `orientation` says. Index
    /// `i * 16 + j` holds vertical frequency i + 1 and horizontal frequency j + 1, so
    /// an odd frequency is an even index.
    static func oriented(_ coefficients: [Float], _ orientation: PDQOrientation) -> [Float] {
        let (transpose, mirror, flip) = orientation.operations
        var out = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                var value = transpose ? coefficients[j * 16 + i] : coefficients[i * 16 + j]
                if (mirror && j % 2 == 0) != (flip && i % 2 == 0) { value = -value }
                out[i * 16 + j] = value
            }
        }
        return out
    }
}
