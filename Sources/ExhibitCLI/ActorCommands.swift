import ArgumentParser
import CaseManagement
import ChainOfCustody
import Foundation

struct ActorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actor", abstract: "Manage the people who act on evidence.",
        subcommands: [Add.self, List.self, Authorize.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an actor with a new Ed25519 signing key (the first actor needs no --actor and becomes supervisor and custodian).")

        @OptionGroup var options: WorkspaceOptions
        @Option(name: .long, help: "Full name.") var name: String
        @Option(name: .long, help: "Badge or staff number.") var badge: String
        @Option(name: .long, help: "A role: investigator, custodian, analyst, supervisor, decision-maker (repeatable).")
        var role: [String] = []

        func run() throws {
            var roles: [Role] = []
            for text in role {
                guard let parsed = Role(rawValue: text) else {
                    throw ValidationError("Unknown role \"\(text)\"; choose from \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                roles.append(parsed)
            }
            let registry = ActorRegistry(workspace: try options.openWorkspace())
            let actor = try registry.add(name: name, badge: badge, roles: roles, actingActor: options.actorID)
            try options.printCreated(actor.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the workspace's actors.")
        @OptionGroup var options: WorkspaceOptions

        func run() throws {
            let actors = try ActorRegistry(workspace: try options.openWorkspace()).all()
            if options.json {
                try Console.json(actors.map(ActorSummary.init))
                return
            }
            for actor in actors {
                let extra = actor.authorizations.isEmpty ? "" : "  [" + actor.authorizations.joined(separator: ", ") + "]"
                Console.line("\(actor.id)  \(actor.name)  badge \(actor.badge)  \(actor.roles.map(\.rawValue).joined(separator: ","))\(extra)")
            }
        }
    }

    struct Authorize: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "authorize", abstract: "Grant an authorisation such as bi-searcher (supervisor).")
        @OptionGroup var options: WorkspaceOptions
        @Argument(help: "The actor to authorise.") var target: String
        @Option(name: .long, help: "The authorisation: bi-searcher.") var authorization: String

        func run() throws {
            guard let granted = Authorization(rawValue: authorization) else {
                throw ValidationError("Unknown authorisation \"\(authorization)\"; the only one is bi-searcher.")
            }
            guard let acting = options.actorID else {
                throw ExhibitError(.usage, "No acting actor: pass --actor ID or set EXHIBIT_ACTOR.")
            }
            let actor = try ActorRegistry(workspace: try options.openWorkspace()).authorize(target, granted, actingActor: acting)
            if options.json { try Console.json(ActorSummary(actor)) } else { Console.line(actor.id) }
        }
    }
}

/// An actor as `actor list --json` prints it: no key material beyond the public key.
struct ActorSummary: Encodable {
    var id: String
    var name: String
    var badge: String
    var roles: [String]
    var authorizations: [String]
    var public_key: String

    init(_ actor: Actor) {
        id = actor.id
        name = actor.name
        badge = actor.badge
        roles = actor.roles.map(\.rawValue)
        authorizations = actor.authorizations
        public_key = actor.publicKey
    }
}
