// Conveyor's Jenkins steps: the seed's CI and CD build steps (fetch dependencies, tests, lint, build, archive the
// artifact), then one call to Conveyor's hook, which takes it from there (version, image, manifests, promotion, sync).
//
//   conveyor(hookUrl: 'https://conveyor.example.com/hooks/jenkins', lint: 'mvn -B checkstyle:check')
//
// Settings (all optional except hookUrl, which may also come from env.CONVEYOR_HOOK_URL):
//   app            the app id; default: the repository slug (Conveyor derives it)
//   credentialsId  Jenkins "secret text" credential holding the hook's bearer token (default conveyor-hook-token)
//   fetch          command that fetches dependencies, or null to skip (default mvn -B -q dependency:go-offline)
//   test           command that runs the tests (default mvn -B test)
//   testReports    JUnit XML reports to record (default **/target/surefire-reports/*.xml)
//   lint           command that runs the linters, or null to skip (default null)
//   lintReports    comma-separated Ant globs of the linters' reports, SARIF 2.1 (JSON) or Checkstyle XML, read after the
//                  lint command (pass or fail) to count errors and warnings (default null; needs Pipeline Utility Steps)
//   recordIssues   arguments for the Warnings NG plugin's recordIssues step, e.g. [tools: [checkStyle(pattern: '...')]];
//                  when set, the lint counts are the totals recordIssues returns (default null)
//   build          command that builds the artifact (default mvn -B -DskipTests package)
//   artifact       glob of the artifact to archive; the first match is reported (default target/*.jar)
//   kind           jar or directory (default jar)
//
// A failing step stops the build steps; the hook still reports the failure (BuildFailed) and the build then fails.
// Lint counts are only reported when they were read from reports (lintReports or recordIssues): a lint command that
// exits 0 says nothing about warnings, so without reports the hook carries no lint counts at all.
// The token is only ever passed masked; it is never echoed or put into the payload.

def call(Map args = [:]) {
    Map cfg = [
        hookUrl      : env.CONVEYOR_HOOK_URL,
        credentialsId: 'conveyor-hook-token',
        fetch        : 'mvn -B -q dependency:go-offline',
        test         : 'mvn -B test',
        testReports  : '**/target/surefire-reports/*.xml',
        lint         : null,
        lintReports  : null,
        recordIssues : null,
        build        : 'mvn -B -DskipTests package',
        artifact     : 'target/*.jar',
        kind         : 'jar',
    ] + args
    if (!cfg.hookUrl) {
        error('conveyor: hookUrl is required (or set CONVEYOR_HOOK_URL)')
    }

    Map state = [failedStep: null, reason: null, tests: null, lint: null, artifactPath: null, sha256: null]
    try {
        if (cfg.fetch) {
            stage('Fetch dependencies') {
                state.failedStep = 'fetch-dependencies'
                sh cfg.fetch
            }
        }
        stage('Test') {
            state.failedStep = 'test'
            try {
                sh cfg.test
            } finally {
                def results = junit(testResults: cfg.testReports, allowEmptyResults: true)
                state.tests = [passed: results?.passCount ?: 0, failed: results?.failCount ?: 0,
                               skipped: results?.skipCount ?: 0]
            }
        }
        if (cfg.lint) {
            stage('Lint') {
                state.failedStep = 'lint'
                try {
                    sh cfg.lint
                } finally {
                    // read even when the linter failed the step: its reports say why
                    state.lint = lintCounts(cfg)
                }
            }
        }
        stage('Build') {
            state.failedStep = 'build'
            sh cfg.build
        }
        stage('Archive') {
            state.failedStep = 'archive'
            archiveArtifacts artifacts: cfg.artifact, fingerprint: true
            state.artifactPath = sh(script: "ls -1 ${cfg.artifact} | head -n 1", returnStdout: true).trim()
            state.sha256 = sh(script: "sha256sum '${state.artifactPath}' | cut -d ' ' -f 1", returnStdout: true).trim()
        }
        state.failedStep = null
    } catch (failure) {
        state.reason = failure.message ?: failure.toString()
    }

    stage('Report to Conveyor') {
        String body = groovy.json.JsonOutput.toJson(hookPayload(cfg, state))
        withCredentials([string(credentialsId: cfg.credentialsId, variable: 'CONVEYOR_TOKEN')]) {
            httpRequest(url: cfg.hookUrl, httpMode: 'POST', contentType: 'APPLICATION_JSON',
                    customHeaders: [[name: 'Authorization', value: "Bearer ${env.CONVEYOR_TOKEN}", maskValue: true]],
                    requestBody: body, validResponseCodes: '200:202', consoleLogResponseBody: true)
        }
    }
    if (state.failedStep) {
        error("conveyor: the ${state.failedStep} step failed: ${state.reason}")
    }
}

/**
 * Text as the gateway accepts it (gateway/README.md, "Hooks"): ANSI escape sequences, other control characters and
 * bidirectional overrides removed (line breaks and tabs kept), at most max characters — a coloured or very long
 * failure message would otherwise be refused and the hook lost.
 */
String hookText(String text, int max) {
    if (text == null) {
        return null
    }
    String clean = text.replaceAll('\u001B\\[[0-9;?]*[ -/]*[@-~]', '')
            .replaceAll('[\\p{Cntrl}&&[^\\n\\r\\t]]|[\u202A-\u202E\u2066-\u2069]', '')
    return clean.length() > max ? clean.substring(0, max - 3) + '...' : clean
}

/** The hook's JSON, as the gateway reads it (see gateway/README.md). */
Map hookPayload(Map cfg, Map state) {
    Map payload = [
        result   : state.failedStep ? 'FAILURE' : 'SUCCESS',
        repoUrl  : env.GIT_URL,
        commit   : env.GIT_COMMIT,
        branch   : env.CHANGE_BRANCH ?: env.BRANCH_NAME,
        buildUrl : env.BUILD_URL,
    ]
    if (cfg.app) {
        payload.app = cfg.app
    }
    if (env.CHANGE_ID) {
        payload.pullRequest = env.CHANGE_ID as Integer
        payload.pullRequestTitle = hookText(env.CHANGE_TITLE, 512)
    }
    if (state.tests) {
        payload.tests = state.tests
    }
    if (state.lint) {
        payload.lint = state.lint
    }
    if (state.failedStep) {
        payload.failedStep = state.failedStep
        payload.reason = hookText(state.reason, 2048)
    } else {
        payload.artifact = [url: "${env.BUILD_URL}artifact/${state.artifactPath}".toString(), sha256: state.sha256,
                            kind: cfg.kind]
    }
    return payload
}

/**
 * Lint errors and warnings from the linters' reports: the Warnings NG plugin's totals when recordIssues is configured
 * and returns results, else the SARIF and Checkstyle reports matching lintReports; null when neither tells.
 */
Map lintCounts(Map cfg) {
    if (cfg.recordIssues) {
        def results = recordIssues(cfg.recordIssues)
        if (results != null) {
            return issueTotals(results)
        }
    }
    if (!cfg.lintReports) {
        return null
    }
    Map counts = [errors: 0, warnings: 0]
    int reports = 0
    for (String glob : cfg.lintReports.toString().split(',')) {
        for (def file : findFiles(glob: glob.trim())) {
            Map one = reportCounts(file.path.toString(), readFile(file: file.path.toString(), encoding: 'UTF-8'))
            counts.errors += one.errors
            counts.warnings += one.warnings
            reports++
        }
    }
    // no report at all is not a clean lint: the linter may not have run or written elsewhere
    return reports ? counts : null
}

/**
 * The totals of recordIssues' results (one AnalysisResult per tool, or one when aggregating): severity ERROR counts as
 * an error, HIGH, NORMAL and LOW as warnings.
 */
@NonCPS
Map issueTotals(def results) {
    int errors = 0
    int total = 0
    for (def result : (results instanceof Collection ? results : [results])) {
        errors += result.totalErrorsSize as int
        total += result.totalSize as int
    }
    return [errors: errors, warnings: total - errors]
}

/** Counts of one report, SARIF or Checkstyle XML, told apart by its first character. */
@NonCPS
Map reportCounts(String path, String text) {
    String body = text.trim()
    if (body.startsWith('{')) {
        return sarifCounts(path, body)
    }
    if (body.startsWith('<')) {
        return checkstyleCounts(path, body)
    }
    throw new IllegalArgumentException("conveyor: lint report ${path} is neither SARIF (JSON) nor Checkstyle XML")
}

/**
 * SARIF 2.1: every result of every run whose kind is fail (the default), that is not suppressed. Its level, or the
 * rule's default level, or warning: error counts as an error, warning and note as warnings, none not at all.
 */
@NonCPS
Map sarifCounts(String path, String body) {
    def sarif = new groovy.json.JsonSlurper().parseText(body)
    if (!(sarif instanceof Map) || !(sarif.runs instanceof List)) {
        throw new IllegalArgumentException("conveyor: lint report ${path} is not SARIF: no runs array")
    }
    int errors = 0
    int warnings = 0
    for (def run : sarif.runs) {
        List rules = run?.tool?.driver?.rules ?: []
        for (def result : (run?.results ?: [])) {
            if ((result.kind ?: 'fail') != 'fail' || suppressed(result)) {
                continue
            }
            def rule = result.ruleIndex instanceof Number && result.ruleIndex < rules.size()
                    ? rules[result.ruleIndex as int]
                    : rules.find { it?.id && it.id == result.ruleId }
            String level = result.level ?: rule?.defaultConfiguration?.level ?: 'warning'
            if (level == 'error') {
                errors++
            } else if (level == 'warning' || level == 'note') {
                warnings++
            }
        }
    }
    return [errors: errors, warnings: warnings]
}

/** A SARIF result with a suppression that is in force (status accepted, or none given). */
@NonCPS
boolean suppressed(def result) {
    return (result.suppressions ?: []).any { !it.status || it.status == 'accepted' }
}

/** Checkstyle XML: every error element; severity error counts as an error, warning and info as warnings. */
@NonCPS
Map checkstyleCounts(String path, String body) {
    def root = new XmlSlurper(false, false).parseText(body)
    if (root.name() != 'checkstyle') {
        throw new IllegalArgumentException(
                "conveyor: lint report ${path} is not Checkstyle XML: root element <${root.name()}>")
    }
    int errors = 0
    int warnings = 0
    root.file.error.each { finding ->
        String severity = finding.@severity.text() ?: 'error'
        if (severity == 'error') {
            errors++
        } else if (severity == 'warning' || severity == 'info') {
            warnings++
        }
    }
    return [errors: errors, warnings: warnings]
}
