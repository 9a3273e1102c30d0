/// The stored line of a hash-chained, signed record (the witness log; the disposal
/// register's certificates have the same form): the chained fields with `hash` and
/// `sig` added, as canonical JSON (RFC 8785), no trailing newline.
public enum SignedLine {
    /// `what` names the record in the error ("A witness record").
    public static func bytes(_ chainedFields: JSONValue, hash: String, signature: String, what: String) throws(ExhibitError) -> [UInt8] {
        guard case .object(var members) = chainedFields else { return [] }
        members["hash"] = .string(hash)
        members["sig"] = .string(signature)
        return try JSONValue.object(members).canonicalBytes(orThrow: "\(what) cannot be written as canonical JSON")
    }
}
