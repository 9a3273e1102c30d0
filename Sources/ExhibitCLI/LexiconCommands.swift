import ArgumentParser
import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation
import Screening

/// `exhibit lexicons show|approve`: which protected-class lexicon set is in force and
/// whether it counts as screening in this workspace (DESIGN §23, IV.B.6).
struct LexiconsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lexicons", abstract: "The protected-class lexicon set in force, and its approval for this workspace (IV.B.6).",
        subcommands: [Show.self, Approve.self])

    /// What both subcommands print.
    struct Output: Encodable {
        var digest: String
        var origin: String
        var classes: [String]
        var terms: Int
        var approved: Bool
        /// `supervisor` or `shipped-default`.
        var basis: String?
        var approvedBy: String?
        var approvedAt: String?
        var workspaceSeq: Int64?
        /// The set a supervisor approved last, when it is not the one in force.
        var approvedDigest: String?

        enum CodingKeys: String, CodingKey {
            case digest, origin, classes, terms, approved, basis
            case approvedBy = "approved_by", approvedAt = "approved_at", workspaceSeq = "workspace_seq", approvedDigest = "approved_digest"
        }

        init(_ screening: ProtectedClassScreening, _ approval: LexiconApproval) {
            digest = LexiconSet.digest(screening)
            origin = screening.origin
            classes = screening.lexicons.map(\.class)
            terms = LexiconSet.termCount(screening)
            approved = approval.approved
            basis = approval.basis?.rawValue
            approvedBy = approval.entry?.actor
            approvedAt = approval.entry?.time
            workspaceSeq = approval.entry?.seq
            approvedDigest = approval.approved ? nil : approval.approvedDigest
        }

        func print() {
            Console.line("lexicon set in force: sha256 \(digest)")
            Console.line("  from \(origin): \(classes.count) classes, \(terms) terms (\(classes.joined(separator: ", ")))")
            switch basis {
            case "supervisor":
                Console.line("approved: yes, by \(approvedBy ?? "?") at \(approvedAt ?? "?") (workspace ledger entry \(workspaceSeq.map(String.init) ?? "?"))")
            case "shipped-default":
                let recorded = workspaceSeq.map { "recorded at its first use, workspace ledger entry \($0)" } ?? "recorded at its first use"
                Console.line("approved: yes, the set shipped with Exhibit, in force while no supervisor has approved a set (\(recorded))")
            default:
                let other = approvedDigest.map { "; the approved set is sha256 \($0)" } ?? ""
                Console.line("approved: NO — screening with this set does not count for a decision-maker export\(other); a supervisor runs `exhibit lexicons approve --digest \(digest)`")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show the lexicon set in force (its sha256 digest, classes, terms) and whether it is approved for this workspace.")
        @OptionGroup var options: WorkspaceOptions

        func run() throws {
            let workspace = try options.openWorkspace()
            let screening = try ProtectedClassScreening.load()
            let approval = try LexiconApproval.status(of: LexiconSet.digest(screening), in: workspace)
            let output = Output(screening, approval)
            if options.json { try Console.json(output) } else { output.print() }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve",
            abstract: "Approve the lexicon set in force for this workspace (a supervisor who is not a decision-maker); recorded in the workspace ledger.")
        @OptionGroup var options: WorkspaceOptions
        @Option(name: .long, help: "The sha256 digest `lexicons show` printed: approve only if the set in force is still that one.")
        var digest: String?

        func run() throws {
            let session = try options.session()
            let screening = try ProtectedClassScreening.load()
            let recorded = try LexiconApproval.approve(screening, expecting: digest, session: session)
            let approval = try LexiconApproval.status(of: LexiconSet.digest(screening), in: session.workspace)
            let output = Output(screening, approval)
            if options.json {
                try Console.json(output)
            } else if recorded == nil {
                Console.error("The lexicon set in force is already the approved one; nothing was recorded.")
                Console.line(output.digest)
            } else {
                Console.line(output.digest)
            }
        }
    }
}
