public import ChainOfCustody

extension RemoteSync {
    /// A page the evidence server's search found. The server builds it from its database
    /// and sends ``json``; the workstation reads it back with ``init(json:)``, so both
    /// ends agree on one wire form.
    public struct Hit: Sendable {
        public var caseID: String
        /// The capture entry of the page in its case's ledger.
        public var seq: Int64
        public var url: String
        public var title: String
        /// Words of the page's text around the match.
        public var snippet: String
    }
}

extension RemoteSync.Hit {
    /// The hit as the server sends it: `{"case", "seq", "url", "title", "snippet"}`.
    public var json: JSONValue {
        .object(["case": .string(caseID), "seq": .integer(seq), "url": .string(url),
                 "title": .string(title), "snippet": .string(snippet)])
    }

    /// A hit from the server's answer; nil without a case and an entry (a missing URL,
    /// title or snippet reads as empty).
    init?(json hit: JSONValue) {
        guard let caseID = hit["case"]?.stringValue, let seq = hit["seq"]?.intValue else { return nil }
        self.init(caseID: caseID, seq: seq, url: hit["url"]?.stringValue ?? "", title: hit["title"]?.stringValue ?? "",
                  snippet: hit["snippet"]?.stringValue ?? "")
    }
}
