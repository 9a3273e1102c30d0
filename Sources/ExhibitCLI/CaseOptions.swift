import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation

/// The options of a command on one case: the workspace options, then the case id as
/// the first argument (argument-parser's `@OptionGroup` for options that commands share).
struct CaseOptions: ParsableArguments {
    @OptionGroup var workspace: WorkspaceOptions
    @Argument(help: "The case id.") var caseID: String

    var json: Bool { workspace.json }

    /// The acting actor's session; recovery notices go to stderr.
    func session(notices: @escaping @Sendable (String) -> Void = { Console.error($0) }) throws -> ActingSession {
        try workspace.session(notices: notices)
    }
}

/// What commands print when they create something or append one entry (DESIGN §14).
protocol CommandOutput {
    var json: Bool { get }
}

extension CommandOutput {
    /// The new id as the only line on stdout, or `{"id": …}`.
    func printCreated(_ id: String) throws {
        if json { try Console.json(CreatedID(id: id)) } else { Console.line(id) }
    }

    /// The seq of the entry appended, or `{"seq": …}`.
    func printSeq(_ entry: LedgerEntry) throws {
        if json { try Console.json(["seq": entry.seq]) } else { Console.line(String(entry.seq)) }
    }
}

extension WorkspaceOptions: CommandOutput {}

extension WorkspaceOptions {
    /// The session of a command that needs no case template (`search`): the templates are
    /// found but decoded only if something asks for one (issue 25: decoding them was
    /// part of every search's start).
    func readingSession() throws -> ActingSession {
        try Self.readingSession(workspace: workspace, actor: actor)
    }

    /// ``readingSession()`` for `--workspace` and `--actor` as given (nil: not given).
    static func readingSession(workspace: String?, actor: String?) throws -> ActingSession {
        try ActingSession(workspace: try Workspace(opening: Workspace.resolvePath(workspace)), templates: try CaseTemplates.load(decodingOnFirstUse: true),
                          actorID: actingActorID(actor), notices: { Console.error($0) })
    }

    /// The acting actor: `--actor`, else `$EXHIBIT_ACTOR`. An empty value means no actor
    /// (`EXHIBIT_ACTOR= exhibit verify C`: an anonymous check).
    static func actingActorID(_ actor: String?) -> String? {
        let chosen = actor ?? ProcessInfo.processInfo.environment["EXHIBIT_ACTOR"]
        return chosen?.isEmpty == false ? chosen : nil
    }
}
extension CaseOptions: CommandOutput {}

extension CaseOptions {
    /// Runs one action of the acting actor on the case (session, case id) and prints
    /// the seq of the entry it recorded.
    func record(_ action: (ActingSession, String) throws -> LedgerEntry) throws {
        try printSeq(action(session(), caseID))
    }
}
