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

    /// What both subcommands print: the set in force (`screening`, whose digest
    /// `approval` was asked about) and its approval, read from the library values
    /// themselves rather than copied field by field.
    struct Output: Encodable {
        let screening: ProtectedClassScreening
        let approval: LexiconApproval

        init(_ screening: ProtectedClassScreening, _ approval: LexiconApproval) {
            self.screening = screening
            self.approval = approval
        }

        /// The set's sha256: the digest the approval status was asked about.
        var digest: String { approval.digest }
        var classes: [String] { screening.lexicons.map(\.class) }

        enum CodingKeys: String, CodingKey {
            case digest, origin, classes, terms, approved, basis
            case approvedBy = "approved_by", approvedAt = "approved_at", workspaceSeq = "workspace_seq", approvedDigest = "approved_digest"
        }

        /// The approving entry's actor, time and seq; `approved_digest` only when the
        /// set in force is not the approved one.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(digest, forKey: .digest)
            try container.encode(screening.origin, forKey: .origin)
            try container.encode(classes, forKey: .classes)
            try container.encode(LexiconSet.termCount(screening), forKey: .terms)
            try container.encode(approval.approved, forKey: .approved)
            try container.encodeIfPresent(approval.basis, forKey: .basis)
            try container.encodeIfPresent(approval.entry?.actor, forKey: .approvedBy)
            try container.encodeIfPresent(approval.entry?.time, forKey: .approvedAt)
            try container.encodeIfPresent(approval.entry?.seq, forKey: .workspaceSeq)
            try container.encodeIfPresent(approval.approved ? nil : approval.approvedDigest, forKey: .approvedDigest)
        }

        func print() {
            let entry = approval.entry
            Console.line("lexicon set in force: sha256 \(digest)")
            Console.line("  from \(screening.origin): \(classes.count) classes, \(LexiconSet.termCount(screening)) terms (\(classes.joined(separator: ", ")))")
            switch approval.basis {
            case .supervisor:
                Console.line("approved: yes, by \(entry?.actor ?? "?") at \(entry?.time ?? "?") (workspace ledger entry \(entry.map { String($0.seq) } ?? "?"))")
            case .shippedDefault:
                let recorded = entry.map { "recorded at its first use, workspace ledger entry \($0.seq)" } ?? "recorded at its first use"
                Console.line("approved: yes, the set shipped with Exhibit, in force while no supervisor has approved a set (\(recorded))")
            case nil:
                let other = approval.approved ? "" : approval.approvedDigest.map { "; the approved set is sha256 \($0)" } ?? ""
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
