import CaseManagement
import Foundation
import Testing

/// `Workspace.resolvePath` works the path out on the string (issue 25: Foundation's URL
/// was half a millisecond of every command's start); it must give what URL gave.
@Suite("workspace path")
struct WorkspacePathTests {
    @Test("the same path as URL(fileURLWithPath:).standardizedFileURL.path, relative and absolute, with . and .. and repeated slashes")
    func sameAsURL() throws {
        let inputs = [
            "ws", "./ws", "ws/", "ws//x", "../ws", "../../ws/./x", "/a/b/../c", "/a/./b/", "/../x", "/a/b/..", "/", ".", "..",
            "a/../../b", "x/.", "x/..", "/tmp//x/", "~/ws", "a b/c", "%20", "a?b#c", "é/ñ", "exhibit-workspace",
            "/work/main/.bench/search/ws-60vct9rx/workspace", "...", "a/.../b", ".hidden/..x",
        ]
        for input in inputs {
            #expect(Workspace.resolvePath(input, environment: [:]) == URL(fileURLWithPath: input).standardizedFileURL.path, "\(input)")
        }
        #expect(Workspace.resolvePath(nil, environment: ["EXHIBIT_WORKSPACE": "a/../w"]) == URL(fileURLWithPath: "w").standardizedFileURL.path)
        #expect(Workspace.resolvePath(nil, environment: [:]) == URL(fileURLWithPath: "exhibit-workspace").standardizedFileURL.path)
    }
}
