import Foundation

/// One line of a case's custody ledger (DESIGN §5, docs/ledger.md).
///
/// The chain and the signature cover `subjectDigest`, not the subject itself, so a
/// redacted copy can withhold `subject` and `salt` and still verify end to end.
public struct LedgerEntry: Sendable, Equatable {
    public var seq: Int64
    /// UTC, microseconds, `Z`: `2026-11-28T13:20:00.123456Z`.
    public var time: String
    public var caseID: String
    public var actor: String
    public var action: String
    /// nil in a redacted copy that withholds this entry's subject.
    public var subject: JSONValue?
    /// 32 random bytes as hex; nil when withheld.
    public var salt: String?
    public var subjectDigest: String
    public var prev: String
    public var hash: String
    /// Base64 Ed25519 signature by `actor` over the ASCII bytes of `hash`.
    public var signature: String
    public var withheld: Bool

    /// The `prev` of the first entry.
    public static let genesisPrev = String(repeating: "0", count: 64)

    /// sha256(salt bytes ‖ canonical(subject)), lowercase hex.
    public static func subjectDigest(salt: String, subject: JSONValue) throws(ExhibitError) -> String {
        guard let saltBytes = Hex.decode(salt) else {
            throw ExhibitError(.storage, "The ledger salt is not hexadecimal.")
        }
        return Digest.sha256Hex(saltBytes + (try canonicalSubject(subject)))
    }

    /// canonical(subject), what the subject digest covers.
    static func canonicalSubject(_ subject: JSONValue) throws(ExhibitError) -> [UInt8] {
        try subject.canonicalBytes(orThrow: "A ledger subject cannot be canonicalised")
    }

    /// The members `hash` covers, in canonical order: the one list that ``chainedFields``,
    /// ``computedHash()`` and ``json`` read.
    var chainedMembers: [(key: StaticString, value: CanonicalWriter.MemberValue)] {
        [("action", .string(action)), ("actor", .string(actor)), ("case", .string(caseID)), ("prev", .string(prev)),
         ("seq", .integer(seq)), ("subject_digest", .string(subjectDigest)), ("time", .string(time))]
    }

    /// ``chainedMembers`` as an object's members.
    private var chainedObject: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: chainedMembers.map { (String(describing: $0.key), $0.value.json) })
    }

    /// The object whose canonical form `hash` is the sha256 of.
    public var chainedFields: JSONValue { .object(chainedObject) }

    /// sha256 of canonical(chainedFields), lowercase hex.
    public func computedHash() -> String {
        // canonical(chainedFields), written member by member in canonical order rather than
        // through a dictionary and a sort (verify hashes every entry of the ledger).
        var writer = CanonicalWriter()
        writer.writeObject(chainedMembers)
        assert(writer.output == (try? chainedFields.canonicalBytes()), "chained fields written out of canonical form")
        return Digest.sha256Hex(writer.output)
    }

    /// The entry as the JSON object stored on its line.
    public var json: JSONValue {
        var object = chainedObject
        object["hash"] = .string(hash)
        object["sig"] = .string(signature)
        if let subject { object["subject"] = subject }
        if let salt { object["salt"] = .string(salt) }
        if withheld { object["withheld"] = .bool(true) }
        return .object(object)
    }

    /// The entry's line: canonical JSON, no trailing newline.
    public func line() throws(ExhibitError) -> [UInt8] {
        try json.canonicalBytes(orThrow: "A ledger entry cannot be written as canonical JSON")
    }

    /// The entry's line as ``line()`` writes it, given canonical(subject) (which the
    /// subject digest was computed from): the members are written in canonical order
    /// around it rather than canonicalising the subject a second time.
    func line(canonicalSubject: [UInt8]) throws(ExhibitError) -> [UInt8] {
        guard !withheld, let salt, subject != nil else { return try line() }
        // RFC 8785 member order: action, actor, case, hash, prev, salt, seq, sig,
        // subject, subject_digest, time ("withheld" is absent here).
        let before: JSONValue = .object([
            "seq": .integer(seq), "case": .string(caseID), "actor": .string(actor), "action": .string(action),
            "prev": .string(prev), "hash": .string(hash), "sig": .string(signature), "salt": .string(salt),
        ])
        var bytes: [UInt8]
        do {
            bytes = try before.canonicalBytes()
            bytes.removeLast()
            bytes += Array(#","subject":"#.utf8)
            bytes += canonicalSubject
            bytes += Array(#","subject_digest":"#.utf8)
            bytes += try JSONValue.string(subjectDigest).canonicalBytes()
            bytes += Array(#","time":"#.utf8)
            bytes += try JSONValue.string(time).canonicalBytes()
            bytes.append(UInt8(ascii: "}"))
        } catch {
            throw ExhibitError(.storage, "A ledger entry cannot be written as canonical JSON: \(error).")
        }
        assert(bytes == (try? line()), "the spliced ledger line differs from the canonical one")
        return bytes
    }

    /// Parses one ledger line; throws a sentence naming what is malformed.
    public init(line: [UInt8]) throws(ExhibitError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: line)
        } catch {
            throw ExhibitError(.verificationFailed, "not valid JSON (\(error))")
        }
        try self.init(json: value)
    }

    /// Parses one ledger line as ``init(line:)`` does, and returns the canonical
    /// bytes of its subject when the line is canonical JSON (as every append writes
    /// it): then canonical(subject) is the part of the line that holds it.
    public static func parsing(line: [UInt8]) throws(ExhibitError) -> (entry: LedgerEntry, canonicalSubject: ArraySlice<UInt8>?) {
        let parsed: (value: JSONValue, isCanonical: Bool, members: [String: Range<Int>])
        do {
            parsed = try JSONValue.parsingNotingCanonical(line)
        } catch {
            throw ExhibitError(.verificationFailed, "not valid JSON (\(error))")
        }
        let entry = try LedgerEntry(json: parsed.value)
        let range = parsed.isCanonical ? parsed.members["subject"] : nil
        return (entry, range.map { line[$0] })
    }

    /// sha256(salt bytes ‖ `canonicalSubject`), lowercase hex: ``subjectDigest(salt:subject:)``
    /// for a subject whose canonical bytes are known.
    public static func subjectDigest(salt: String, canonicalSubject: ArraySlice<UInt8>) throws(ExhibitError) -> String {
        guard let saltBytes = Hex.decode(salt) else {
            throw ExhibitError(.storage, "The ledger salt is not hexadecimal.")
        }
        let stream = DigestStream([.sha256])
        stream.update(saltBytes)
        canonicalSubject.withUnsafeBytes { stream.update($0) }
        return Hex.encode(stream.finish()[.sha256]!)
    }

    public init(json value: JSONValue) throws(ExhibitError) {
        guard case .object(let members) = value else {
            throw ExhibitError(.verificationFailed, "not a JSON object")
        }
        // Anything outside the chained fields would be covered by no hash or
        // signature, so a line with an unknown member is not a ledger entry.
        let known: Set<String> = ["seq", "time", "case", "actor", "action", "subject", "salt", "subject_digest", "prev", "hash", "sig", "withheld"]
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
            throw ExhibitError(.verificationFailed, "unknown member \"\(unknown)\" (not covered by the hash or signature)")
        }
        func string(_ key: String) throws(ExhibitError) -> String {
            guard let text = value[key]?.stringValue else {
                throw ExhibitError(.verificationFailed, "field \"\(key)\" is missing or not a string")
            }
            return text
        }
        guard let seq = value["seq"]?.intValue else {
            throw ExhibitError(.verificationFailed, "field \"seq\" is missing or not an integer")
        }
        self.seq = seq
        self.time = try string("time")
        self.caseID = try string("case")
        self.actor = try string("actor")
        self.action = try string("action")
        self.subjectDigest = try string("subject_digest")
        self.prev = try string("prev")
        self.hash = try string("hash")
        self.signature = try string("sig")
        self.withheld = value["withheld"]?.boolValue ?? false
        self.subject = value["subject"]
        self.salt = value["salt"]?.stringValue
        if withheld {
            guard subject == nil, salt == nil else {
                throw ExhibitError(.verificationFailed, "a withheld entry still carries its subject or salt")
            }
        } else {
            guard subject != nil, salt != nil else {
                throw ExhibitError(.verificationFailed, "field \"subject\" or \"salt\" is missing")
            }
        }
    }

    init(
        seq: Int64, time: String, caseID: String, actor: String, action: String,
        subject: JSONValue, salt: String, subjectDigest: String, prev: String
    ) {
        self.seq = seq
        self.time = time
        self.caseID = caseID
        self.actor = actor
        self.action = action
        self.subject = subject
        self.salt = salt
        self.subjectDigest = subjectDigest
        self.prev = prev
        self.hash = ""
        self.signature = ""
        self.withheld = false
        self.hash = computedHash()
    }

    /// This entry as a redacted copy shows it: subject and salt dropped, digest kept.
    public func withholding() -> LedgerEntry {
        var copy = self
        copy.subject = nil
        copy.salt = nil
        copy.withheld = true
        return copy
    }
}

/// What a command asks the ledger to record: an action and its subject.
public struct LedgerDraft: Sendable, Equatable {
    public var action: String
    public var subject: JSONValue

    public init(action: String, subject: JSONValue) {
        self.action = action
        self.subject = subject
    }
}

/// The acting actor's identity and key, as needed to sign entries.
public struct LedgerSigner {
    public let actorID: String
    public let key: SigningKey

    public init(actorID: String, key: SigningKey) {
        self.actorID = actorID
        self.key = key
    }
}

/// Ledger times: UTC with six fractional digits and `Z`.
public enum LedgerTime {
    /// Now, from the system clock.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), microseconds: Int(spec.tv_nsec / 1000))
    }

    public static func format(seconds: Int, microseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let micro = String(microseconds)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - micro.count) + micro + "Z"
    }

    /// The UTC year of a ledger time.
    public static func year(of time: String) -> Int? {
        Int(time.prefix(4))
    }

    /// Parses a ledger time back to seconds since 1970 (UTC); nil when malformed.
    public static func seconds(of time: String) -> Int? {
        let chars = Array(time.utf8)
        guard chars.count == 27, chars[4] == UInt8(ascii: "-"), chars[10] == UInt8(ascii: "T"),
              chars[26] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? { Int32(String(decoding: chars[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int(timegm(&parts))
    }
}
