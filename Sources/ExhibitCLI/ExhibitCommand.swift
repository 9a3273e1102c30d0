import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation

struct ExhibitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exhibit",
        abstract: "Capture public web pages as evidence and prove that nothing changed since.",
        version: ExhibitVersion.current,
        subcommands: [
            InitCommand.self, ActorCommand.self, CaseCommand.self, CaptureCommand.self, RenderCommand.self, ArtifactsCommand.self, SelectorsCommand.self, SearchCommand.self, ReindexCommand.self, ImportCommand.self, TagCommand.self, FindingCommand.self, BICommand.self, LexiconsCommand.self, ExportCommand.self, VerifyCommand.self, TimestampCommand.self, RecoverCommand.self, TransferCommand.self, HoldCommand.self, ReleaseCommand.self, RetentionCommand.self, DisposeCommand.self, ServeCommand.self, DemoCommand.self, WatchCommand.self, DiffCommand.self, MediaCommand.self, SimilarCommand.self, ServerCommand.self, RemoteCommand.self, PushCommand.self, PullCommand.self, CloneCommand.self,
        ]
    )
}

enum ExhibitVersion {
    static let current = ExhibitRelease.version
}

/// Options every workspace command shares.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: "The workspace directory (default: $EXHIBIT_WORKSPACE, else ./exhibit-workspace).")
    var workspace: String?

    @Option(name: .long, help: "The acting actor's id (default: $EXHIBIT_ACTOR).")
    var actor: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var workspacePath: String { Workspace.resolvePath(workspace) }

    /// An empty value means no actor (`EXHIBIT_ACTOR= exhibit verify C`: an anonymous check).
    var actorID: String? { Self.actingActorID(actor) }

    func openWorkspace() throws -> Workspace {
        try Workspace(opening: workspacePath)
    }

    /// The acting actor's session; recovery notices go to stderr.
    func session(notices: @escaping @Sendable (String) -> Void = { Console.error($0) }) throws -> ActingSession {
        try ActingSession(workspace: try openWorkspace(), templates: try CaseTemplates.load(), actorID: actorID, notices: notices)
    }
}

/// The shape `--json` prints for a command that creates something (DESIGN §14).
struct CreatedID: Encodable {
    var id: String
}

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a workspace.")

    @Option(name: .long, help: "The workspace directory to create (default: $EXHIBIT_WORKSPACE, else ./exhibit-workspace).")
    var workspace: String?

    @Option(name: .long, help: "The agency that owns the evidence, as it should appear in bundles.")
    var agency: String

    @Option(name: .long, help: "Also compute this digest of every capture's payload, alongside SHA-256: sha512, sha1 or md5 (repeatable).")
    var extraDigest: [String] = []

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        var extra: [DigestAlgorithm] = []
        for name in extraDigest {
            guard let algorithm = DigestAlgorithm(rawValue: name.lowercased()) else {
                throw ValidationError("--extra-digest takes sha512, sha1 or md5, not \"\(name)\".")
            }
            extra.append(algorithm)
        }
        let path = Workspace.resolvePath(workspace)
        let created = try Workspace.create(at: path, agency: agency, extraDigests: extra)
        if json {
            try Console.json(["workspace": created.root, "agency": created.info.agency])
        } else {
            Console.line(created.root)
        }
    }
}
