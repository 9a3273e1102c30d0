import Foundation

/// PDQ perceptual hashing, implemented from the published algorithm (Meta
/// ThreatExchange, "The TMK+PDQF and PDQ hashing algorithms", 2017, and its C++
/// reference `pdq/cpp`): luminance, a two-pass Jarosz (box) filter with windows
/// sized for 64 output samples, decimation to 64×64, the first 16×16 coefficients
/// of a 2-D DCT-II (the DC row and column left out), and one bit per coefficient:
/// above the median or not. The quality is the sum of quantised gradients of the
/// 64×64 image, scaled to 0…100.
///
/// Arithmetic follows the reference step for step in single precision (luminance
/// in double then rounded, as the `pdqhash` Python binding does), so the same
/// pixels give the same bits; different decoders of one file may still differ by a
/// bit or two (docs/media.md).
public enum PDQ {
    /// Images smaller than this in either dimension hash to zero with quality 0.
    public static let minimumDimension = 5

    /// Hashes packed RGB8 pixels (`width × height × 3` bytes, rows top to bottom).
    public static func hash(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> PDQHash {
        guard let (coefficients, quality) = transform(rgb: rgb, width: width, height: height) else { return zero }
        return hash(coefficients: coefficients, quality: quality)
    }

    /// What an image too small to hash gets.
    static var zero: PDQHash { PDQHash(bytes: [UInt8](repeating: 0, count: 32), quality: 0) }

    /// The DCT coefficients and quality of packed RGB8 pixels; nil below the minimum size.
    static func transform(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> (coefficients: [Float], quality: Int)? {
        precondition(rgb.count >= width * height * 3, "the pixel buffer is shorter than width × height × 3")
        guard width >= minimumDimension, height >= minimumDimension else { return nil }
        let count = width * height
        let buffer1 = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        let buffer2 = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer {
            buffer1.deallocate()
            buffer2.deallocate()
        }
        for index in 0..<count {
            let r = Double(rgb[3 * index]), g = Double(rgb[3 * index + 1]), b = Double(rgb[3 * index + 2])
            buffer1[index] = Float(r * 0.299 + g * 0.587 + b * 0.114)
        }
        return transform(luma: buffer1, scratch: buffer2, width: width, height: height)
    }

    /// Hashes `[UInt8]` RGB8 pixels.
    public static func hash(rgb: [UInt8], width: Int, height: Int) -> PDQHash {
        rgb.withUnsafeBufferPointer { hash(rgb: $0, width: width, height: height) }
    }

    /// The 16×16 DCT coefficients (row `i` = vertical frequency i + 1) and the quality.
    static func transform(luma: UnsafeMutableBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>,
                          width: Int, height: Int) -> (coefficients: [Float], quality: Int) {
        var small = [Float](repeating: 0, count: 64 * 64)
        if width == 64 && height == 64 {
            for index in 0..<(64 * 64) { small[index] = luma[index] }
        } else {
            let windowAlongRows = jaroszWindow(old: width, new: 64)
            let windowAlongColumns = jaroszWindow(old: height, new: 64)
            for _ in 0..<2 {
                boxAlongRows(luma, into: scratch, rows: height, columns: width, window: windowAlongRows)
                boxAlongColumns(scratch, into: luma, rows: height, columns: width, window: windowAlongColumns)
            }
            // Decimate: the sample nearest each output cell's centre.
            for i in 0..<64 {
                let sourceRow = Int((Double(i) + 0.5) * Double(height) / 64)
                for j in 0..<64 {
                    let sourceColumn = Int((Double(j) + 0.5) * Double(width) / 64)
                    small[i * 64 + j] = luma[sourceRow * width + sourceColumn]
                }
            }
        }
        return (dct64To16(small), qualityMetric(small))
    }

    /// One bit per coefficient: above the median or not.
    static func hash(coefficients: [Float], quality: Int) -> PDQHash {
        // The lower median (the 128th smallest of 256), as the reference's Torben selection gives.
        let median = coefficients.sorted()[127]
        var hash = PDQHash(bytes: [UInt8](repeating: 0, count: 32), quality: quality)
        for k in 0..<256 where coefficients[k] > median { hash.setBit(k) }
        return hash
    }

    /// The box window that takes `old` samples to about `new`: ceil(old / (2 new)).
    static func jaroszWindow(old: Int, new: Int) -> Int {
        (old + 2 * new - 1) / (2 * new)
    }

    /// A moving mean along each row. Output `o` averages the input over
    /// `[o - (w - h), o + (h - 1)]` clipped to the row, with `h = (w + 2) / 2`; the
    /// running sum adds the entering sample before removing the leaving one, as the
    /// reference does, so the floats agree bit for bit.
    static func boxAlongRows(_ input: UnsafeMutableBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                             rows: Int, columns: Int, window: Int) {
        let half = (window + 2) / 2
        let phase1 = half - 1, phase2 = window - half + 1, phase3 = columns - window, phase4 = half - 1
        for row in 0..<rows {
            let base = row * columns
            var sum: Float = 0
            var size = 0
            var right = base, left = base, out = base
            for _ in 0..<phase1 { sum += input[right]; size += 1; right += 1 }
            for _ in 0..<phase2 { sum += input[right]; size += 1; output[out] = sum / Float(size); right += 1; out += 1 }
            if phase3 > 0 {
                for _ in 0..<phase3 {
                    sum += input[right]; sum -= input[left]
                    output[out] = sum / Float(size)
                    left += 1; right += 1; out += 1
                }
            }
            for _ in 0..<phase4 { sum -= input[left]; size -= 1; output[out] = sum / Float(size); left += 1; out += 1 }
        }
    }

    /// The same moving mean down each column, computed a row at a time for all
    /// columns together (one running sum per column: the same additions in the same
    /// order as a column-by-column pass, but reading memory in order).
    static func boxAlongColumns(_ input: UnsafeMutableBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
                                rows: Int, columns: Int, window: Int) {
        let half = (window + 2) / 2
        let phase1 = half - 1, phase2 = window - half + 1, phase3 = rows - window, phase4 = half - 1
        let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: columns)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0)
        var size = 0
        var right = 0, left = 0, out = 0
        for _ in 0..<phase1 {
            let r = right * columns
            for c in 0..<columns { sums[c] += input[r + c] }
            size += 1; right += 1
        }
        for _ in 0..<phase2 {
            let r = right * columns, o = out * columns
            let divisor = Float(size + 1)
            for c in 0..<columns { sums[c] += input[r + c]; output[o + c] = sums[c] / divisor }
            size += 1; right += 1; out += 1
        }
        if phase3 > 0 {
            let divisor = Float(size)
            for _ in 0..<phase3 {
                let r = right * columns, l = left * columns, o = out * columns
                for c in 0..<columns {
                    var s = sums[c]
                    s += input[r + c]
                    s -= input[l + c]
                    sums[c] = s
                    output[o + c] = s / divisor
                }
                left += 1; right += 1; out += 1
            }
        }
        for _ in 0..<phase4 {
            let l = left * columns, o = out * columns
            size -= 1
            let divisor = Float(size)
            for c in 0..<columns { sums[c] -= input[l + c]; output[o + c] = sums[c] / divisor }
            left += 1; out += 1
        }
    }

    /// Sum of |Δ| over horizontal and vertical neighbours of the 64×64 image, each
    /// difference scaled to 0…100 and truncated, divided by 90 and capped at 100.
    static func qualityMetric(_ small: [Float]) -> Int {
        var gradientSum = 0
        for i in 0..<63 {
            for j in 0..<64 {
                let d = Int((small[i * 64 + j] - small[(i + 1) * 64 + j]) * 100 / 255)
                gradientSum += abs(d)
            }
        }
        for i in 0..<64 {
            for j in 0..<63 {
                let d = Int((small[i * 64 + j] - small[i * 64 + j + 1]) * 100 / 255)
                gradientSum += abs(d)
            }
        }
        return min(gradientSum / 90, 100)
    }

    /// Row `i` (0…15) of the DCT-II basis for 64 samples, frequencies 1…16 (DC left out).
    static let dctMatrix: [Float] = {
        let scale = Float((2.0 / 64.0).squareRoot())
        var matrix = [Float](repeating: 0, count: 16 * 64)
        for i in 0..<16 {
            for j in 0..<64 {
                matrix[i * 64 + j] = Float(Double(scale) * cos(Double.pi / 2.0 / 64.0 * Double(i + 1) * Double(2 * j + 1)))
            }
        }
        return matrix
    }()

    /// B = D A Dᵀ for the 16 lowest non-DC frequencies, summed in index order.
    static func dct64To16(_ a: [Float]) -> [Float] {
        let d = dctMatrix
        var t = [Float](repeating: 0, count: 16 * 64)
        for i in 0..<16 {
            for j in 0..<64 {
                var sum: Float = 0
                for k in 0..<64 { sum += d[i * 64 + k] * a[k * 64 + j] }
                t[i * 64 + j] = sum
            }
        }
        var b = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                var sum: Float = 0
                for k in 0..<64 { sum += t[i * 64 + k] * d[j * 64 + k] }
                b[i * 16 + j] = sum
            }
        }
        return b
    }
}
