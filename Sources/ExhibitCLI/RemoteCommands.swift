import ArgumentParser
import CaseManagement
import ChainOfCustody
import EvidenceServer
import Foundation
import LoopbackServer

/// `exhibit remote add`: an evidence server for this workspace (DESIGN §22).
struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "The evidence servers this workspace pushes to and pulls from.",
        subcommands: [RemoteAddCommand.self])
}

struct RemoteAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an evidence server; a supervisor also registers the workspace's actors on it.",
        discussion: """
        The first supervisor to register on a new server is trusted on first use; after that the \
        server accepts only actors a registered supervisor signs. The server's receipt key is \
        pinned in the workspace witness log (a record signed by the acting actor) and copied to \
        remotes.json; push and pull refuse a remotes.json that disagrees with the pin. The server's actors this workspace lacks are recorded (public keys only).
        """)
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "A short name for the server.") var name: String
    @Argument(help: "The server's URL (https://…; http:// on loopback).") var url: String
    @Option(name: .customLong("ca-file"), help: "Trust the server's certificate through this CA bundle (PEM).") var caFile: String?

    func run() throws {
        let sync = try RemoteCommands.sync(options)
        let name = name, url = url, caFile = caFile
        let added = try LoopbackServer.blocking { () async throws(ExhibitError) -> RemoteSync.Added in
            try await sync.addRemote(name: name, url: url, caFile: caFile)
        }
        if options.json {
            print(String(decoding: try JSONValue.object([
                "name": .string(added.remote.name), "url": .string(added.remote.url),
                "registered": .array(added.registered.map { .string($0) }), "imported": .array(added.imported.map { .string($0) }),
                "trusted_on_first_use": .bool(added.trustedOnFirstUse), "server_key": .string(added.fingerprint),
            ]).canonicalBytes(), as: UTF8.self))
            return
        }
        Console.line("Added \(added.remote.name) \(added.remote.url), receipt key \(added.fingerprint) pinned in the witness log")
        if added.trustedOnFirstUse { Console.line("This server trusts \(options.actorID ?? "") as its first supervisor (trust on first use).") }
        if !added.registered.isEmpty { Console.line("Registered: \(added.registered.joined(separator: ", "))") }
        if !added.imported.isEmpty { Console.line("Actors taken from the server: \(added.imported.joined(separator: ", "))") }
    }
}

enum RemoteCommands {
    static func sync(_ options: WorkspaceOptions) throws -> RemoteSync {
        guard let actor = options.actorID else {
            throw ValidationError("Requests to an evidence server are signed by the acting actor: give --actor or set EXHIBIT_ACTOR.")
        }
        return RemoteSync(workspace: try options.openWorkspace(), actorID: actor)
    }
}

/// What push, pull and clone are given: the workspace, the case, and which evidence server.
struct RemoteCaseOptions: ParsableArguments {
    @OptionGroup var options: WorkspaceOptions
    @Argument(help: "The case id.") var caseID: String
    @Option(name: .long, help: "The evidence server's name (default: the only one).") var remote: String?
    @Option(name: .long, help: "The evidence server's address, as given to remote add (instead of --remote).") var server: String?

    /// The remote that `--remote NAME` or `--server URL` (DESIGN §22) names; nil lets the
    /// workspace's only remote be used. A server is known only once `remote add` has
    /// pinned its receipt key, so an address is looked up among the added remotes.
    func remoteName() throws -> String? {
        guard let server else { return remote }
        guard remote == nil else { throw ValidationError("Give --remote or --server, not both.") }
        let trimmed = { (url: String) in url.hasSuffix("/") ? String(url.dropLast()) : url }
        let remotes = try Remote.all(in: try options.openWorkspace())
        guard let match = remotes.values.filter({ trimmed($0.url) == trimmed(server) }).map(\.name).sorted().first else {
            throw ValidationError("No evidence server at \(InertText.escape(server)) was added to this workspace: run exhibit remote add NAME \(InertText.escape(server)) first.")
        }
        return match
    }
}

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a case to the evidence server: fast-forward only, verified by the server, all or nothing.",
        discussion: "Prints the server's signed receipt (case, seq, head, time), which is also kept in the workspace witness log, where exhibit verify holds the ledger to it. A history that diverged from the server's is refused (exit 1) naming the first differing entry; pushing the same entries again changes nothing.")
    @OptionGroup var target: RemoteCaseOptions

    func run() throws {
        let options = target.options
        let sync = try RemoteCommands.sync(options)
        let caseID = target.caseID, remote = try target.remoteName()
        let pushed = try LoopbackServer.blocking { () async throws(ExhibitError) -> RemoteSync.Pushed in
            try await sync.push(caseID, remote: remote)
        }
        if options.json {
            print(String(decoding: try JSONValue.object([
                "case": .string(pushed.caseID), "seq": .integer(pushed.seq), "head": .string(pushed.head),
                "time": .string(pushed.time), "unchanged": .bool(pushed.unchanged), "files_sent": .integer(Int64(pushed.filesSent)),
            ]).canonicalBytes(), as: UTF8.self))
            return
        }
        Console.line(pushed.unchanged
            ? "\(pushed.caseID) is already on the server at entry \(pushed.seq) (head \(pushed.head))"
            : "Pushed \(pushed.caseID) to entry \(pushed.seq) (head \(pushed.head)), \(pushed.filesSent) files sent; receipt signed \(pushed.time)")
    }
}

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Take the evidence server's new entries and files of a case this workspace has.")
    @OptionGroup var target: RemoteCaseOptions

    func run() throws { try RemoteCommands.pull(target.options, caseID: target.caseID, remote: target.remoteName(), clone: false) }
}

struct CloneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone", abstract: "Copy a case from the evidence server into this workspace (custodians, analysts).")
    @OptionGroup var target: RemoteCaseOptions

    func run() throws { try RemoteCommands.pull(target.options, caseID: target.caseID, remote: target.remoteName(), clone: true) }
}

extension RemoteCommands {
    static func pull(_ options: WorkspaceOptions, caseID: String, remote: String?, clone: Bool) throws {
        let sync = try sync(options)
        let pulled = try LoopbackServer.blocking { () async throws(ExhibitError) -> RemoteSync.Pulled in
            try await sync.pull(caseID, remote: remote, clone: clone)
        }
        if options.json {
            print(String(decoding: try JSONValue.object([
                "case": .string(pulled.caseID), "added": .integer(Int64(pulled.added)),
                "entry_count": .integer(Int64(pulled.entryCount)), "files_fetched": .integer(Int64(pulled.filesFetched)),
            ]).canonicalBytes(), as: UTF8.self))
            return
        }
        Console.line(pulled.added == 0
            ? "\(pulled.caseID) is up to date (\(pulled.entryCount) entries)"
            : "\(clone ? "Cloned" : "Pulled") \(pulled.caseID): \(pulled.added) entries, \(pulled.filesFetched) files (now \(pulled.entryCount) entries)")
    }

    /// `exhibit search --remote NAME WORDS`: agency-wide search on the server.
    static func search(_ options: WorkspaceOptions, words: String, remote: String) throws {
        let sync = try sync(options)
        let hits = try LoopbackServer.blocking { () async throws(ExhibitError) -> [RemoteSync.Hit] in
            try await sync.search(words, remote: remote)
        }
        if options.json {
            print(String(decoding: try JSONValue.object([
                "query": .string(words), "remote": .string(remote),
                "results": .array(hits.map { .object(["case": .string($0.caseID), "seq": .integer($0.seq), "url": .string($0.url),
                                                      "title": .string($0.title), "snippet": .string($0.snippet)]) }),
            ]).canonicalBytes(), as: UTF8.self))
            return
        }
        for hit in hits {
            Console.line("\(hit.caseID)  entry \(hit.seq)  \(hit.url)\(hit.title.isEmpty ? "" : "  “\(hit.title)”")")
            Console.line("    \(hit.snippet.replacingOccurrences(of: "\n", with: " "))")
        }
    }
}
