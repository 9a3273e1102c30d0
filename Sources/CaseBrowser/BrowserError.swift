public import ChainOfCustody

/// The browser's own failures that are not Exhibit errors of another kind:
/// a page or file that does not exist (404) or cannot be shown (422). Carried
/// inside an ``ExhibitError`` with the storage code (exit 5 where a command
/// would meet it), so library callers keep one error type.
public enum BrowserError {
    public enum Kind: Sendable { case notFound, unprocessable }

    /// A page, artifact or blob that does not exist (HTTP 404).
    public static func notFound(_ message: String) -> ExhibitError {
        ExhibitError(.storage, message, cause: Marker(kind: .notFound))
    }

    /// Something that exists but cannot be shown in the browser (HTTP 422).
    public static func unprocessable(_ message: String) -> ExhibitError {
        ExhibitError(.storage, message, cause: Marker(kind: .unprocessable))
    }

    /// The kind an error was raised with, or nil for any other error.
    public static func kind(of error: ExhibitError) -> Kind? {
        (error.cause as? Marker)?.kind
    }

    struct Marker: Error, Sendable {
        var kind: Kind
    }
}
