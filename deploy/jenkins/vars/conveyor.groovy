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
//   build          command that builds the artifact (default mvn -B -DskipTests package)
//   artifact       glob of the artifact to archive; the first match is reported (default target/*.jar)
//   kind           jar or directory (default jar)
//
// A failing step stops the build steps; the hook still reports the failure (BuildFailed) and the build then fails.
// The token is only ever passed masked; it is never echoed or put into the payload.

def call(Map args = [:]) {
    Map cfg = [
        hookUrl      : env.CONVEYOR_HOOK_URL,
        credentialsId: 'conveyor-hook-token',
        fetch        : 'mvn -B -q dependency:go-offline',
        test         : 'mvn -B test',
        testReports  : '**/target/surefire-reports/*.xml',
        lint         : null,
        build        : 'mvn -B -DskipTests package',
        artifact     : 'target/*.jar',
        kind         : 'jar',
    ] + args
    if (!cfg.hookUrl) {
        error('conveyor: hookUrl is required (or set CONVEYOR_HOOK_URL)')
    }

    Map state = [failedStep: null, reason: null, tests: null, linted: false, artifactPath: null, sha256: null]
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
                sh cfg.lint
                state.linted = true
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
        payload.pullRequestTitle = env.CHANGE_TITLE
    }
    if (state.tests) {
        payload.tests = state.tests
    }
    if (state.linted) {
        // The lint command passed; counts of warnings are not parsed from its output.
        payload.lint = [errors: 0, warnings: 0]
    }
    if (state.failedStep) {
        payload.failedStep = state.failedStep
        payload.reason = state.reason
    } else {
        payload.artifact = [url: "${env.BUILD_URL}artifact/${state.artifactPath}".toString(), sha256: state.sha256,
                            kind: cfg.kind]
    }
    return payload
}
