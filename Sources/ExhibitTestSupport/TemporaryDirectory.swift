import Foundation

/// A directory under the system's temporary folder, removed when the instance
/// is released. Each test gets its own, so tests run in parallel safely.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "exhibit-test") {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-XXXXXX").path
        var bytes = Array(template.utf8CString)
        let created = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed for \(template)")
        path = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func child(_ name: String) -> String {
        path + "/" + name
    }
}
