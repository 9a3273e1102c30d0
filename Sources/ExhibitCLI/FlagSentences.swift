import ChainOfCustody

/// The libraries' errors speak the domain ("the reason for the hold is empty; say
/// why"); the command line says which flag carries that input (DESIGN §15, STYLE
/// "Errors speak the domain; the CLI speaks flags"). Keyed by the error's typed
/// ``ExhibitError/Input``, never by matching its words.
enum FlagSentences {
    /// What this command line adds, before the sentence's full stop, for an input.
    static let hints: [ExhibitError.Input: String] = [
        .reason: " with --reason TEXT",
        .outputPath: " with --out",
        .exportFormat: "; drop --format wacz",
        .actingActor: " with --actor ID (or set EXHIBIT_ACTOR)",
        .actorName: " with --name",
        .actorBadge: " with --badge",
        .actorRoles: " with --role",
        .caseTitle: " with --title",
        .templateFields: " with --field NAME=VALUE",
        .workspace: " with --workspace",
        .agency: " with --agency NAME",
        .findingText: " with --text",
        .captureURLs: " with --urls-file FILE",
        .concurrency: " (--concurrency)",
        .captureLimits: " (--depth, --max-bytes, --timeout, --connect-timeout)",
        .timeStampingAuthority: " with --tsa URL",
        .trustedCertificates: " (--ca-file)",
        .listeningPort: " with --port (0 picks a free one)",
    ]

    /// The one sentence the CLI prints for a library error.
    static func sentence(for error: ExhibitError) -> String {
        guard let input = error.input, let hint = hints[input] else { return error.message }
        var message = error.message
        if message.hasSuffix(".") { message.removeLast() }
        return message + hint + "."
    }
}
