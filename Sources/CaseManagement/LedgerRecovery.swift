public import ChainOfCustody

extension ActingSession {
    /// `exhibit recover CASE` (custodian): sets aside the torn last line of the
    /// case's ledger that a power loss during an append left (DESIGN §16). The
    /// torn bytes become a blob, the line is cut off, and a `recovery` entry
    /// records the blob's sha256 and size. Returns nil, recording nothing, when
    /// the ledger ends with a complete line.
    public func recover(_ caseID: String) throws(ExhibitError) -> LedgerEntry? {
        try store.requireCase(caseID)
        guard permission(.recover) else {
            // The refusal cannot be recorded while the ledger is torn; it is when it is not.
            if try store.ledger(of: caseID).tornTail() != nil {
                throw ExhibitError(.notPermitted, Permission.recover.refusalReason(for: actor))
            }
            try authorize(.recover, caseID: caseID, command: "recover")
            return nil
        }
        return try store.recoverTornTail(caseID, signer: try signer())
    }

    private func permission(_ permission: Permission) -> Bool {
        permission.allows(actor)
    }
}
