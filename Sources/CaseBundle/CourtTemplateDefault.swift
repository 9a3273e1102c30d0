// The copy of CaseTemplates/court/certificate.html compiled into the binary (CourtTemplateTests
// fails when the two differ; copy the file here after editing it).

enum CourtTemplateDefault {
    static let certificate = #"""
<!-- Exhibit court certificate template (docs/court.md). An agency edits this text;
     Exhibit fills each placeholder in double braces with an escaped fact and refuses a template
     that names a placeholder it does not know. This is a starting point for the
     agency's counsel, not legal advice: have counsel adapt it to the court's rules. -->
<h1>Certificate of authenticity of electronic evidence by process of digital identification</h1>
<p class="meta">{{agency}} — case {{case.id}}: {{case.title}}</p>

<p>I, <strong>{{custodian.name}}</strong>, badge {{custodian.badge}}, hold the role(s) {{custodian.roles}} in the
evidence system of {{agency}} (actor {{custodian.actor}}). I state the following facts, which I know from my
duties and from the records of that system.</p>

<h2>1. The system</h2>
<p>The items listed below were collected and are kept with {{system.software}} version {{system.version}}, running
as the program whose SHA-256 digest is <code>{{system.binary_sha256}}</code>. It records every action on the case in
an append-only custody ledger: each entry is chained to the one before by SHA-256 and signed with the acting
person's Ed25519 key.</p>

<h2>2. How each item was identified</h2>
<p>{{hash_method}}</p>
<p>Capture and hashing times are given in UTC and in {{time_zone}}.</p>

<h2>3. The custody ledger and trusted timestamps</h2>
<p>The ledger of case {{case.id}} holds {{ledger.entries}} entries; its last entry, made {{ledger.last_entry_time}},
has the hash <code>{{ledger.head}}</code>.</p>
{{timestamps}}

<h2>4. Verification</h2>
<p>When these documents were made, the system verified the case: {{verification.result}}</p>

<h2>5. The exhibits</h2>
<p>{{exhibits.count}} item(s) are listed, each with the SHA-256 digest by which it is identified:</p>
{{exhibits.table}}

<h2>6. Signature</h2>
{{signature}}
"""#
}
