import ArgumentParser
import CaseIndex
import CaseManagement
import ChainOfCustody
import Foundation

struct BICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bi", abstract: "Background investigations: checklist steps, uniformity, protected-class screening (IV.B.5–10).",
        subcommands: [Checklist.self, Step.self, Uniformity.self, Flags.self, Confirm.self, Dismiss.self, Review.self, Countersign.self])

    struct Checklist: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checklist",
            abstract: "Show the case's checklist: each step's source and query with the candidate's details filled in, and what was recorded.")
        @OptionGroup var options: CaseOptions

        func run() throws {
            let items = try BackgroundInvestigation(session: options.session()).checklist(options.caseID)
            if options.json { try Console.json(["case": AnyEncodable(options.caseID), "steps": AnyEncodable(items)]); return }
            for item in items {
                Console.line("\(item.id)  [\(item.status)\(item.reason.map { ": \($0)" } ?? "")]  \(item.title)")
                Console.line("    \(item.source): \(item.query)")
            }
        }
    }

    struct Step: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "step",
            abstract: "Record a checklist step as done or skipped, with the artifacts it produced (the bi-searcher).")
        @OptionGroup var options: CaseOptions
        @Argument(help: "The step id from the template's checklist (others are recorded as extra steps).") var step: String
        @Flag(name: .long, help: "The step was carried out.") var done = false
        @Flag(name: .long, help: "The step was not carried out (give --reason).") var skipped = false
        @Option(name: .long, help: "Why (required with --skipped).") var reason: String?
        @Option(name: .long, help: "An artifact the step produced (repeatable).") var artifact: [String] = []
        @Flag(name: .long, help: "With --done: the search found nothing (a signed statement instead of --artifact).") var noResults = false

        func validate() throws {
            guard done != skipped else { throw ValidationError("Give exactly one of --done and --skipped.") }
            guard !noResults || done else { throw ValidationError("--no-results goes with --done.") }
            guard !noResults || artifact.isEmpty else { throw ValidationError("Give --artifact or --no-results, not both.") }
        }

        func run() throws {
            let entry = try BackgroundInvestigation(session: options.session())
                .recordStep(options.caseID, step: step, status: done ? .done : .skipped, reason: reason, artifacts: artifact, noResults: noResults)
            if options.json { try Console.json(["seq": Int(entry.seq)]); return }
            Console.line("\(options.caseID) step \(step) \(done ? "done" : "skipped") (ledger seq \(entry.seq))")
        }
    }

    struct Uniformity: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "uniformity",
            abstract: "Compare the checklist across a cohort's candidates; exit 1 when they were not treated alike (supervisor).")
        @OptionGroup var options: WorkspaceOptions
        @Argument(help: "The cohort id (the cases' cohort field).") var cohort: String

        func run() throws {
            let report = try BackgroundInvestigation(session: options.session()).uniformity(cohort: cohort)
            if options.json {
                try Console.json(Output(report))
            } else {
                Console.line("cohort \(cohort): \(report.candidates.count) candidate\(report.candidates.count == 1 ? "" : "s"), \(report.uniform ? "uniform" : "NOT UNIFORM")")
                for near in report.nearDuplicates {
                    Console.line("warning: cohort \"\(near.cohort)\" (\(near.cases.joined(separator: ", "))) differs from \"\(cohort)\" only in punctuation or spacing and is not included")
                }
                for candidate in report.candidates {
                    let skipped = candidate.skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                    Console.line("\(candidate.case)  \(candidate.candidate)  done \(candidate.done.count)/\(report.checklist.count)"
                          + "  skipped \(candidate.skipped.count)\(skipped.isEmpty ? "" : " (" + skipped.joined(separator: "; ") + ")")"
                          + "  extra \(candidate.extra.count)\(candidate.extra.isEmpty ? "" : " (" + candidate.extra.joined(separator: ", ") + ")")"
                          + (candidate.missing.isEmpty ? "" : "  not recorded: " + candidate.missing.joined(separator: ", "))
                          + (candidate.incomplete.isEmpty ? "" : "  done citing nothing: " + candidate.incomplete.joined(separator: ", "))
                          + "  captures tied to no step \(candidate.extraCaptures.count)"
                          + (candidate.extraCaptures.isEmpty ? "" : " (" + candidate.extraCaptures.joined(separator: ", ") + ")"))
                    let rerecorded = candidate.history.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
                    for (step, records) in rerecorded {
                        Console.line("    \(candidate.case) \(step): " + records.joined(separator: " then "))
                    }
                }
                for (step, treatment) in report.differences.sorted(by: { $0.key < $1.key }) {
                    Console.line("differs: \(step) (" + treatment.sorted { $0.key < $1.key }.map { "\($0.value) in \($0.key)" }.joined(separator: ", ") + ")")
                }
                if !report.incompleteForAll.isEmpty {
                    Console.line("checklist incomplete for every candidate alike: "
                                 + report.incompleteForAll.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", "))
                }
            }
            if !report.uniform { throw ExitCode(1) }
        }

        struct Output: Encodable {
            var cohort: String
            var uniform: Bool
            var checklist: [String]
            var candidates: [BackgroundInvestigation.CandidateSteps]
            var differences: [String: [String: String]]
            var nearDuplicates: [BackgroundInvestigation.NearDuplicate]
            var incompleteForAll: [String: String]
            enum CodingKeys: String, CodingKey {
                case cohort, uniform, checklist, candidates, differences
                case nearDuplicates = "near_duplicates"
                case incompleteForAll = "incomplete_for_all"
            }
            init(_ report: BackgroundInvestigation.Uniformity) {
                cohort = report.cohort
                uniform = report.uniform
                checklist = report.checklist
                candidates = report.candidates
                differences = report.differences
                nearDuplicates = report.nearDuplicates
                incompleteForAll = report.incompleteForAll
            }
        }
    }

    struct Flags: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "flags",
            abstract: "Screen every capture of the case for protected-class terms; record new flags and what needs review, and list all (the bi-searcher).")
        @OptionGroup var options: CaseOptions

        func run() throws {
            let report = try Screening(session: options.session()).screen(options.caseID)
            if !report.lexicons.approved {
                Console.error("The lexicon set in force (sha256 \(report.lexicons.digest), from \(report.lexicons.origin)) is not approved for this workspace, so this screening does not count for a decision-maker export; a supervisor reviews it with `exhibit lexicons show` and approves it with `exhibit lexicons approve`.")
            }
            if options.json {
                try Console.json(["case": AnyEncodable(options.caseID), "flags": AnyEncodable(report.flags),
                                  "needs_review": AnyEncodable(report.needsReview), "lexicons": AnyEncodable(report.lexicons)])
                return
            }
            for flag in report.flags {
                let countersign = flag.status == "dismissed" ? (flag.countersignedBy.map { "  countersigned by \($0)" } ?? "  awaiting countersignature") : ""
                Console.line("\(flag.id)  \(flag.status)  \(flag.artifact)  \(flag.class)  “\(flag.term)” at \(flag.offset)\(flag.part.map { " (\($0))" } ?? "")  \(flag.excerpt)\(countersign)")
            }
            for review in report.needsReview {
                let state = switch review.status {
                case "reviewed-clear": "reviewed-clear by \(review.reviewedBy ?? "?")" + (review.countersignedBy.map { ", countersigned by \($0)" } ?? ", awaiting countersignature")
                case "protected": "protected (reviewed by \(review.reviewedBy ?? "?"))"
                default: "needs-review"
                }
                Console.line("\(review.artifact)  \(state)  \(review.reason)")
            }
        }
    }

    /// What confirming and dismissing a flag share.
    struct FlagDecision: ParsableArguments {
        @OptionGroup var options: CaseOptions
        @Argument(help: "The flag id.") var flag: String
        @Option(name: .long, help: "Why, in words (a dismissal's reason is what the countersigning actor reads).") var reason: String

        func record(confirmed: Bool) throws {
            try Screening(session: options.session()).decide(options.caseID, flag: flag, confirmed: confirmed, reason: reason)
            try options.printCreated(flag)
        }
    }

    struct Confirm: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "confirm",
            abstract: "Confirm a flag: the artifact is tagged protected-class and never reaches a decision-maker (the bi-searcher).")
        @OptionGroup var decision: FlagDecision
        func run() throws { try decision.record(confirmed: true) }
    }

    struct Dismiss: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dismiss",
            abstract: "Dismiss a flag as not touching a protected class (the bi-searcher); it counts once a second actor countersigns it.")
        @OptionGroup var decision: FlagDecision
        func run() throws { try decision.record(confirmed: false) }
    }

    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "Record a person's review of an artifact screening cannot judge (image, document, undecodable body): clear, or protected (the bi-searcher).")
        @OptionGroup var options: CaseOptions
        @Argument(help: "The artifact id (or its sha256).") var artifact: String
        @Flag(name: .long, help: "It shows nothing about a protected class; it counts once a second actor countersigns it.") var clear = false
        @Flag(name: .long, help: "It shows protected-class information: tagged protected-class, never disclosed.") var protected = false
        @Option(name: .long, help: "Why, in words.") var reason: String

        func validate() throws {
            guard clear != protected else { throw ValidationError("Give exactly one of --clear and --protected.") }
        }

        func run() throws {
            let entry = try ScreeningReview(session: options.session())
                .review(options.caseID, artifact: artifact, decision: clear ? .reviewedClear : .protected, reason: reason)
            let id = entry.subject?["artifact"]?.stringValue ?? artifact
            try options.printCreated(id)
        }
    }

    struct Countersign: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "countersign",
            abstract: "Countersign a reviewed-clear artifact or a dismissed flag (a second bi-searcher or a supervisor; never the one who decided, never a decision-maker).")
        @OptionGroup var options: CaseOptions
        @Argument(help: "The artifact id (or its sha256) or the flag id.") var target: String
        @Option(name: .long, help: "A note on the countersignature.") var reason: String?

        func run() throws {
            _ = try ScreeningReview(session: options.session()).countersign(options.caseID, target: target, reason: reason)
            try options.printCreated(target)
        }
    }
}

struct FindingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finding", abstract: "Record findings and their validation: unverified, corroborated, disputed (IV.B.10).",
        subcommands: [Add.self, Set.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Record a finding with the artifacts it rests on (investigator).")
        @OptionGroup var options: CaseOptions
        @Option(name: .long, help: "What was found.") var text: String
        @Option(name: .long, help: "An artifact it rests on (repeatable).") var artifact: [String] = []

        func run() throws {
            let id = try BackgroundInvestigation(session: options.session()).addFinding(options.caseID, text: text, artifacts: artifact)
            try options.printCreated(id)
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set a finding's status; corroborated needs two or more artifacts from independent sources: different registrable domains, different payloads (investigator).")
        @OptionGroup var options: CaseOptions
        @Argument(help: "The finding id (F-001).") var finding: String
        @Option(name: .long, help: "unverified, corroborated or disputed.") var status: String
        @Option(name: .long, help: "The artifacts that support the status (repeatable; default: the finding's).") var artifact: [String] = []
        @Option(name: .long, help: "Why.") var reason: String?

        func run() throws {
            guard let value = BackgroundInvestigation.FindingStatus(rawValue: status) else {
                throw ValidationError("--status takes unverified, corroborated or disputed, not \"\(status)\".")
            }
            let finding = try BackgroundInvestigation(session: options.session())
                .setFinding(options.caseID, finding: self.finding, status: value, artifacts: artifact, reason: reason)
            if options.json { try Console.json(finding); return }
            Console.line("\(finding.id) \(finding.status.rawValue) (\(finding.artifacts.joined(separator: ", ")))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a case's findings (recorded as a view).")
        @OptionGroup var options: CaseOptions

        func run() throws {
            let findings = try BackgroundInvestigation(session: options.session()).listFindings(options.caseID)
            if options.json { try Console.json(["case": AnyEncodable(options.caseID), "findings": AnyEncodable(findings)]); return }
            for finding in findings {
                Console.line("\(finding.id)  \(finding.status.rawValue)  \(finding.artifacts.joined(separator: ","))  \(finding.text)")
            }
        }
    }
}

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Tag an artifact (investigator; recorded).")
    @OptionGroup var options: CaseOptions
    @Argument(help: "The artifact id (or its sha256).") var artifact: String
    @Argument(help: "The tag.") var tag: String

    func run() throws {
        let entry = try BackgroundInvestigation(session: options.session()).tag(options.caseID, artifact: artifact, tag: tag)
        if options.json { try Console.json(["seq": Int(entry.seq)]); return }
        Console.line("\(entry.subject?["artifact"]?.stringValue ?? artifact) tagged \(tag)")
    }
}

/// Wraps values of different types for one JSON object.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
