public import CaseManagement
public import ChainOfCustody
import Foundation

/// A workspace with a supervisor/custodian (a-0001) and an investigator
/// (a-0002), made through the library API, in a temporary directory.
public struct TestWorkspace: Sendable {
    public let directory: TemporaryDirectory
    public let workspace: Workspace
    public let supervisorID: String
    public let investigatorID: String

    public init(_ label: String = "exhibit-ws") throws {
        directory = TemporaryDirectory(label)
        workspace = try Workspace.create(at: directory.child("ws"), agency: "Test Police Department")
        let registry = ActorRegistry(workspace: workspace)
        supervisorID = try registry.add(name: "Sol Supervisor", badge: "S-1", roles: [.supervisor, .custodian], actingActor: nil).id
        investigatorID = try registry.add(name: "Ivy Investigator", badge: "I-2", roles: [.investigator, .analyst], actingActor: supervisorID).id
    }

    public var root: String { workspace.root }

    public func session(_ actorID: String? = nil) throws -> ActingSession {
        try ActingSession(workspace: workspace, templates: try CaseTemplates.load(), actorID: actorID ?? investigatorID)
    }

    /// Opens an online-crime case (media off) or a crime-imagery case (media on).
    public func openCase(media: Bool = false) throws -> String {
        let session = try session()
        if media {
            return try session.openCase(category: "crime-imagery", title: "Test", fields: ["incident_reference": "I-1"]).id
        }
        return try session.openCase(category: "online-crime", title: "Test", fields: ["subtype": "other", "complainant_reference": "R-1"]).id
    }

    public func caseDirectory(_ caseID: String) -> String {
        workspace.casesDirectory + "/" + caseID
    }

    public func entries(_ caseID: String) throws -> [LedgerEntry] {
        try Ledger(path: caseDirectory(caseID) + "/ledger.jsonl").entries()
    }
}
