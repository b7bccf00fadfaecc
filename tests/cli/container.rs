//! The container image as users run it: deploy/Dockerfile's runtime image around the
//! binary these tests built (tests/container/images makes it, and its Debian base and
//! the emulator's image, without a registry), run by Docker.
//!
//! - The image: non-root, read-only root filesystem, no shell, `--version`, the health
//!   check ECS runs, and a `git+http://` source cloned into the one writable path.
//! - Two replicas in containers and the emulator in its own, on a private Docker network;
//!   each replica's AWS requests pass a recording proxy on the network's gateway, so
//!   every mutating request is seen with its timing. `docker network disconnect` of the
//!   leader, reconnect, `docker stop` (SIGTERM) and `docker kill`.
//! - The CloudFormation stack's task definition and the image agree.
//!
//! Where no Docker daemon answers, each test says so on stderr and passes.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ecsd_tests::env::Env;
use ecsd_tests::git::{GitRepo, git};
use ecsd_tests::proxy::{FaultProxy, overlapping, writes};
use ecsd_tests::{fixture_with, repo_root, scratch_dir, unique_name, within};
use serde_json::{Value, json};

/// The replicas' lease: the CloudFormation stack's defaults are longer; these keep the
/// test short, and the bounds below are stated in them.
const DURATION: Duration = Duration::from_secs(3);
const RENEW: Duration = Duration::from_secs(1);

/// The images of one run (tests/container/images' last line).
struct Images {
    emulator: String,
    runtime: String,
}

/// The images, or `None` (said on stderr) where no Docker daemon answers.
fn images() -> Option<Images> {
    let daemon = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    if !daemon.as_ref().is_ok_and(|o| o.status.success()) {
        // The one message of a skipped test: where tests run, it is the point.
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "SKIPPED: no Docker daemon answers (`docker version` failed); the container tests need one"
            );
        }
        return None;
    }
    let out = Command::new(repo_root().join("tests/container/images"))
        .arg(env!("CARGO_BIN_EXE_ecsd"))
        .output()
        .expect("run tests/container/images");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tests/container/images failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    let tag = |key: &str| {
        last.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in {last:?}"))
            .to_owned()
    };
    Some(Images {
        emulator: tag("emulator"),
        runtime: tag("runtime"),
    })
}

/// `docker ARGS`: whether it succeeded, and its stdout and stderr.
fn docker(args: &[&str]) -> (bool, String, String) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

/// `docker ARGS`, which must succeed: its stdout.
fn docker_ok(args: &[&str]) -> String {
    let (ok, stdout, stderr) = docker(args);
    assert!(ok, "docker {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// A private Docker network with the emulator in its own container; removes both, and
/// every container started through it, when dropped.
struct Lab {
    network: String,
    gateway: String,
    emulator: String,
    /// The runtime image ecsd containers run.
    runtime: String,
    containers: Vec<String>,
}

impl Lab {
    fn start(images: &Images) -> Lab {
        let network = unique_name("ecsd-net");
        docker_ok(&["network", "create", &network]);
        let mut lab = Lab {
            gateway: docker_ok(&[
                "network",
                "inspect",
                &network,
                "--format",
                "{{(index .IPAM.Config 0).Gateway}}",
            ]),
            network,
            emulator: String::new(),
            runtime: images.runtime.clone(),
            containers: Vec::new(),
        };
        let name = lab.run(&["--name", &unique_name("ecsd-emulator"), &images.emulator]);
        let endpoint = format!("http://{}:5000", lab.ip(&name));
        let up = within(Duration::from_secs(30), || {
            TcpStream::connect_timeout(
                &endpoint
                    .trim_start_matches("http://")
                    .parse()
                    .expect("an address"),
                Duration::from_millis(300),
            )
            .is_ok()
        });
        assert!(
            up.is_some(),
            "the emulator container answers:\n{}",
            lab.logs(&name)
        );
        lab.emulator = endpoint;
        lab
    }

    /// `docker run -d --network NET ARGS`: the container's name.
    fn run(&mut self, args: &[&str]) -> String {
        let name = args
            .windows(2)
            .find(|w| w[0] == "--name")
            .map(|w| w[1].to_owned())
            .expect("a --name");
        self.containers.push(name.clone());
        let mut all = vec!["run", "-d", "--network", &self.network];
        all.extend_from_slice(args);
        docker_ok(&all);
        name
    }

    /// Starts `ecsd run --source SOURCE --owner OWNER --interval 1s EXTRA` in a container
    /// called `name` as ECS runs it: read-only root, /tmp the one writable path, AWS
    /// through `proxy` with the emulator's credentials; `docker` are more `docker run`
    /// arguments (a mount).
    fn run_ecsd(
        &mut self,
        name: &str,
        proxy: &FaultProxy,
        docker: &[&str],
        source: &str,
        owner: &str,
        extra: &[&str],
    ) -> String {
        let endpoint = format!("AWS_ENDPOINT_URL=http://{}:{}", self.gateway, proxy.port());
        let runtime = self.runtime.clone();
        let mut args = vec!["--name", name, "--read-only", "--tmpfs", "/tmp"];
        args.extend_from_slice(docker);
        args.extend_from_slice(&[
            "-e",
            &endpoint,
            "-e",
            "AWS_REGION=us-east-1",
            "-e",
            "AWS_ACCESS_KEY_ID=testing",
            "-e",
            "AWS_SECRET_ACCESS_KEY=testing",
            &runtime,
            "run",
            "--source",
            source,
            "--owner",
            owner,
            "--interval",
            "1s",
        ]);
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// The container's address on the lab's network.
    fn ip(&self, container: &str) -> String {
        docker_ok(&[
            "inspect",
            container,
            "--format",
            &format!(
                "{{{{(index .NetworkSettings.Networks \"{}\").IPAddress}}}}",
                self.network
            ),
        ])
    }

    fn logs(&self, container: &str) -> String {
        let (_, out, err) = docker(&["logs", container]);
        format!("{out}\n{err}")
    }

    /// A boto3 call against the lab's emulator.
    fn aws(&self, service: &str, operation: &str, params: &Value) -> Value {
        let text = fixture_with(
            &["call", service, operation, &params.to_string()],
            &[("AWS_ENDPOINT_URL", &self.emulator)],
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{operation}: {e}: {text}"))
    }

    /// An [`Env`] (network, load balancer, cluster) in the lab's emulator, with one
    /// stack written to its source directory.
    fn env_with_stack(&self) -> (Env, String) {
        let name = unique_name("e");
        let cluster = unique_name("c");
        let ids = fixture_with(
            &["network", "--name", &name, "--clusters", &cluster],
            &[("AWS_ENDPOINT_URL", &self.emulator)],
        );
        let env = Env {
            bin: PathBuf::from(env!("CARGO_BIN_EXE_ecsd")),
            owner: "ecsd".to_owned(),
            dir: scratch_dir(&name),
            ids: serde_json::from_str(&ids).expect("network ids"),
            name: name.clone(),
            cluster,
        };
        env.write("stack.yaml", &env.stack(&name, "web:1", 2, false, 10));
        (env, name)
    }

    fn image_of(&self, env: &Env, service: &str) -> String {
        let svc = self.aws(
            "ecs",
            "describe_services",
            &json!({"cluster": env.cluster, "services": [service]}),
        );
        let Some(td) = svc["services"][0]["taskDefinition"].as_str() else {
            return String::new();
        };
        self.aws(
            "ecs",
            "describe_task_definition",
            &json!({"taskDefinition": td}),
        )["taskDefinition"]["containerDefinitions"][0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", c]);
        }
        let _ = docker(&["network", "rm", &self.network]);
    }
}

/// `GET http://ADDR:9090PATH` from the host (the host reaches a bridge network's
/// containers by their address): status and body, or `None`.
fn get(ip: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let addr = format!("{ip}:9090").parse().ok()?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let code = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((code, body))
}

fn role(ip: &str) -> Option<String> {
    let (code, body) = get(ip, "/status")?;
    let status: Value = (code == 200).then(|| serde_json::from_str(&body).ok())??;
    status["lease"]["role"].as_str().map(str::to_owned)
}

/// The index of the one replica (by address) that says it leads.
fn leader(ips: &[String]) -> Option<usize> {
    let leading: Vec<usize> = ips
        .iter()
        .enumerate()
        .filter(|(_, ip)| role(ip).as_deref() == Some("leader"))
        .map(|(i, _)| i)
        .collect();
    assert!(
        leading.len() <= 1,
        "two replicas say they lead: {leading:?}"
    );
    leading.first().copied()
}

/// Someone keeps changing the service's desired count, so the leader keeps writing.
fn drift(lab: &Lab, env: &Env, name: &str) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let (endpoint, cluster, name) = (lab.emulator.clone(), env.cluster.clone(), name.to_owned());
    let thread = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            fixture_with(
                &[
                    "call",
                    "ecs",
                    "update_service",
                    &json!({"cluster": cluster, "service": name, "desiredCount": 5}).to_string(),
                ],
                &[("AWS_ENDPOINT_URL", &endpoint)],
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    (stop, thread)
}

#[test]
fn the_image_runs_non_root_on_a_read_only_root_without_a_shell_and_its_health_check_passes() {
    let Some(images) = images() else { return };
    let inspect: Value = serde_json::from_str(&docker_ok(&["image", "inspect", &images.runtime]))
        .expect("image JSON");
    let config = &inspect[0]["Config"];
    assert_eq!(config["User"], "10001:10001", "{config}");
    assert_eq!(config["Entrypoint"], json!(["/usr/local/bin/ecsd"]));
    assert_eq!(config["StopSignal"], "SIGTERM");
    assert_eq!(
        config["Healthcheck"]["Test"],
        json!(["CMD", "/usr/local/bin/ecsd", "healthcheck"])
    );
    let (ok, _, err) = docker(&["run", "--rm", "--entrypoint", "/bin/sh", &images.runtime]);
    assert!(
        !ok && err.contains("/bin/sh"),
        "a shell in the image: {err}"
    );
    let version = docker_ok(&["run", "--rm", "--read-only", &images.runtime, "--version"]);
    assert_eq!(version, format!("ecsd {}", env!("CARGO_PKG_VERSION")));

    // A git repository served over git's smart HTTP protocol (git http-backend as a CGI
    // program of Python's http.server) from the emulator's container: the git source
    // fetches it into /tmp, the one writable path.
    let mut lab = Lab::start(&images);
    let (env, name) = lab.env_with_stack();
    let repo = GitRepo::new(&env);
    let stack = std::fs::read_to_string(env.dir.join("stack.yaml")).expect("the stack");
    let head = repo.commit(&stack, "stack");
    git(&repo.bare, &["update-server-info"]);
    let emulator_container = lab.containers[0].clone();
    docker_ok(&["exec", &emulator_container, "mkdir", "-p", "/srv/cgi-bin"]);
    docker_ok(&[
        "cp",
        &repo.bare.display().to_string(),
        &format!("{emulator_container}:/srv/repo.git"),
    ]);
    let backend = "#!/bin/sh\nexport GIT_PROJECT_ROOT=/srv GIT_HTTP_EXPORT_ALL=1 \\\n  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\nexec /usr/lib/git-core/git-http-backend\n";
    docker_ok(&[
        "exec",
        &emulator_container,
        "sh",
        "-c",
        &format!("printf '%s' \"{backend}\" > /srv/cgi-bin/git && chmod 755 /srv/cgi-bin/git"),
    ]);
    let (ok, _, err) = docker(&[
        "exec",
        "-d",
        "-w",
        "/srv",
        &emulator_container,
        "/venv/bin/python",
        "-m",
        "http.server",
        "--cgi",
        "8000",
    ]);
    assert!(ok, "serve the repository: {err}");
    let emulator_ip = lab.ip(&emulator_container);
    let proxy = FaultProxy::start_on(&lab.gateway, &lab.emulator);
    let daemon = unique_name("ecsd-one");
    let source = format!("git+http://{emulator_ip}:8000/cgi-bin/git/repo.git");
    lab.run_ecsd(&daemon, &proxy, &[], &source, &env.owner, &[]);
    let ip = lab.ip(&daemon);
    let ready = within(Duration::from_secs(60), || {
        get(&ip, "/readyz").is_some_and(|(code, _)| code == 200)
    });
    assert!(
        ready.is_some(),
        "ecsd in its container is ready:\n{}",
        lab.logs(&daemon)
    );
    assert!(
        within(Duration::from_secs(30), || lab.image_of(&env, &name)
            == "web:1")
        .is_some(),
        "the stack from git converged:\n{}",
        lab.logs(&daemon)
    );
    let (_, body) = get(&ip, "/status").expect("/status");
    let status: Value = serde_json::from_str(&body).expect("status JSON");
    assert_eq!(status["revision"], head, "{status}");

    // The process runs as 10001, and the health check ECS runs passes, by exec and by
    // Docker's own HEALTHCHECK.
    let pid = docker_ok(&["inspect", &daemon, "--format", "{{.State.Pid}}"]);
    let proc_status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's status");
    let uid = proc_status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .expect("a Uid line");
    assert!(uid.split_whitespace().all(|u| u == "10001"), "Uid:{uid}");
    docker_ok(&["exec", &daemon, "/usr/local/bin/ecsd", "healthcheck"]);
    let healthy = within(Duration::from_secs(60), || {
        docker_ok(&["inspect", &daemon, "--format", "{{.State.Health.Status}}"]) == "healthy"
    });
    assert!(healthy.is_some(), "Docker's health check passes");
    let (ok, _, _) = docker(&[
        "exec",
        &daemon,
        "/usr/local/bin/ecsd",
        "healthcheck",
        "--url",
        "http://127.0.0.1:9091/healthz",
    ]);
    assert!(!ok, "the health check fails where nothing answers");

    // SIGTERM (docker stop) ends it cleanly, well within ECS's 30 s.
    let stopping = Instant::now();
    docker_ok(&["stop", "-t", "30", &daemon]);
    let took = stopping.elapsed();
    let code = docker_ok(&["inspect", &daemon, "--format", "{{.State.ExitCode}}"]);
    assert_eq!(code, "0", "{}", lab.logs(&daemon));
    assert!(took < Duration::from_secs(20), "docker stop took {took:?}");
}

#[test]
fn two_replica_containers_survive_a_partition_a_sigterm_and_a_kill_with_one_writer_at_a_time() {
    let Some(images) = images() else { return };
    let mut lab = Lab::start(&images);
    let (env, name) = lab.env_with_stack();
    let table = unique_name("leases");
    let proxies: Vec<FaultProxy> = (0..2)
        .map(|_| FaultProxy::start_on(&lab.gateway, &lab.emulator))
        .collect();
    let names: Vec<String> = (0..2).map(|i| unique_name(&format!("ecsd-r{i}"))).collect();
    let mount = format!("{}:/manifests:ro", env.dir.display());
    for (name, proxy) in names.iter().zip(&proxies) {
        lab.run_ecsd(
            name,
            proxy,
            &["-v", &mount],
            "/manifests",
            &env.owner,
            &[
                "--resync",
                "1s",
                "--lease-table",
                &table,
                "--lease-duration",
                "3s",
                "--lease-renew",
                "1s",
            ],
        );
    }
    let mut ips: Vec<String> = names.iter().map(|n| lab.ip(n)).collect();
    let logs = |lab: &Lab| format!("{}\n---\n{}", lab.logs(&names[0]), lab.logs(&names[1]));
    let first = ecsd_tests::eventually(Duration::from_secs(60), || leader(&ips))
        .unwrap_or_else(|| panic!("a replica leads:\n{}", logs(&lab)));
    assert!(
        within(Duration::from_secs(60), || lab.image_of(&env, &name)
            == "web:1")
        .is_some(),
        "the leader converges the stack:\n{}",
        logs(&lab)
    );

    // Partition: the leader loses the network while someone keeps changing the service.
    let (stop, drifter) = drift(&lab, &env, &name);
    let corrections = |i: usize| {
        proxies[i]
            .log()
            .iter()
            .filter(|l| l.action == "UpdateService")
            .count()
    };
    assert!(
        within(Duration::from_secs(30), || corrections(first) >= 2).is_some(),
        "the leader corrects the drift:\n{}",
        logs(&lab)
    );
    let other = 1 - first;
    let cut = Instant::now();
    docker_ok(&["network", "disconnect", &lab.network, &names[first]]);
    let took = within(Duration::from_secs(30), || {
        role(&ips[other]).as_deref() == Some("leader")
    })
    .unwrap_or_else(|| panic!("the other replica takes over:\n{}", logs(&lab)));
    assert!(
        took <= DURATION + RENEW + Duration::from_secs(1),
        "takeover {took:?} after the partition"
    );
    assert!(
        within(Duration::from_secs(30), || corrections(other) >= 1).is_some(),
        "the new leader corrects the drift"
    );
    // Reconnected, the old leader stays a standby and changes nothing.
    docker_ok(&["network", "connect", &lab.network, &names[first]]);
    let reconnected = Instant::now();
    ips[first] = lab.ip(&names[first]);
    std::thread::sleep(DURATION + RENEW);
    stop.store(true, Ordering::Relaxed);
    let _ = drifter.join();
    assert_eq!(
        role(&ips[first]).as_deref(),
        Some("standby"),
        "{}",
        logs(&lab)
    );
    let all = writes(&proxies);
    assert_eq!(
        overlapping(&all),
        0,
        "two replicas were changing AWS at once"
    );
    let last_old = all[first]
        .iter()
        .map(|w| w.started)
        .max()
        .expect("it wrote");
    assert!(
        last_old < cut + DURATION,
        "the old leader wrote {:?} after the partition",
        last_old.duration_since(cut)
    );
    assert!(
        all[first].iter().all(|w| w.started < reconnected),
        "the reconnected replica wrote"
    );

    // SIGTERM: the leader hands the lease over within 2 s.
    let leader_now = leader(&ips).expect("one leads");
    let standby = 1 - leader_now;
    let stopping = Instant::now();
    let stopper = {
        let name = names[leader_now].clone();
        std::thread::spawn(move || docker(&["stop", "-t", "30", &name]))
    };
    let handover = within(Duration::from_secs(10), || {
        role(&ips[standby]).as_deref() == Some("leader")
    })
    .map(|_| stopping.elapsed());
    let (stopped, _, err) = stopper.join().expect("docker stop");
    assert!(stopped, "docker stop: {err}");
    let handover = handover.unwrap_or_else(|| panic!("no handover on SIGTERM:\n{}", logs(&lab)));
    assert!(
        handover <= Duration::from_secs(2),
        "handover took {handover:?}"
    );
    assert_eq!(
        docker_ok(&[
            "inspect",
            &names[leader_now],
            "--format",
            "{{.State.ExitCode}}"
        ]),
        "0"
    );

    // The stopped one comes back as a standby; then the leader is killed (SIGKILL): the
    // standby leads within the lease's duration and a renew period, and converges an edit.
    docker_ok(&["start", &names[leader_now]]);
    ips[leader_now] = lab.ip(&names[leader_now]);
    assert!(
        within(Duration::from_secs(30), || {
            role(&ips[leader_now]).as_deref() == Some("standby")
        })
        .is_some(),
        "the restarted replica stands by"
    );
    let killed = standby;
    let survivor = leader_now;
    let killing = Instant::now();
    docker_ok(&["kill", &names[killed]]);
    let took = within(Duration::from_secs(20), || {
        role(&ips[survivor]).as_deref() == Some("leader")
    })
    .map(|_| killing.elapsed())
    .unwrap_or_else(|| panic!("no takeover after the kill:\n{}", logs(&lab)));
    assert!(
        took <= DURATION + RENEW + Duration::from_millis(1500),
        "the standby led {took:?} after the kill"
    );
    env.write("stack.yaml", &env.stack(&name, "web:2", 2, false, 10));
    assert!(
        within(Duration::from_secs(30), || lab.image_of(&env, &name)
            == "web:2")
        .is_some(),
        "the new leader converges:\n{}",
        logs(&lab)
    );
    assert_eq!(overlapping(&writes(&proxies)), 0);
}

/// One of the CloudFormation template's resources, parsed.
fn cloudformation_container() -> yaml_rust2::Yaml {
    let text = std::fs::read_to_string(repo_root().join("deploy/cloudformation/ecsd.yaml"))
        .expect("the template");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the template is YAML");
    docs[0]["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0].clone()
}

#[test]
fn the_cloudformation_task_definition_and_the_image_agree() {
    let Some(images) = images() else { return };
    let inspect: Value = serde_json::from_str(&docker_ok(&["image", "inspect", &images.runtime]))
        .expect("image JSON");
    let image = &inspect[0]["Config"];
    let c = cloudformation_container();
    let task_json: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/task-definition.json"))
            .expect("task-definition.json"),
    )
    .expect("task definition JSON");
    let t = &task_json["containerDefinitions"][0];

    // The port.
    let port = c["PortMappings"][0]["ContainerPort"]
        .as_i64()
        .expect("a port");
    assert!(
        image["ExposedPorts"].get(format!("{port}/tcp")).is_some(),
        "the image exposes {port}: {}",
        image["ExposedPorts"]
    );
    assert_eq!(t["portMappings"][0]["containerPort"], port);
    // The health check: the image's command, asked on that port.
    let check: Vec<&str> = c["HealthCheck"]["Command"]
        .as_vec()
        .expect("a health check")
        .iter()
        .filter_map(|y| y.as_str())
        .collect();
    let from_image: Vec<&str> = image["Healthcheck"]["Test"]
        .as_array()
        .expect("a HEALTHCHECK")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(check[..from_image.len()], from_image[..], "{check:?}");
    assert!(
        check.join(" ").contains(&format!(":{port}/healthz")),
        "{check:?}"
    );
    let task_check: Vec<&str> = t["healthCheck"]["command"]
        .as_array()
        .expect("a health check")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(task_check, check);
    // The command ECS runs is the image's entry point with `run`.
    assert_eq!(image["Entrypoint"], json!(["/usr/local/bin/ecsd"]));
    assert_eq!(c["Command"][0].as_str(), Some("run"));
    // The user: the image's non-root one, not overridden.
    assert_eq!(image["User"], "10001:10001");
    assert!(c["User"].is_badvalue() && t.get("user").is_none());
    // Read-only root, and the image's one writable path is the mounted volume.
    assert_eq!(c["ReadonlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(t["readonlyRootFilesystem"], true);
    assert!(
        image["Volumes"].get("/tmp").is_some(),
        "{}",
        image["Volumes"]
    );
    assert_eq!(c["MountPoints"][0]["ContainerPath"].as_str(), Some("/tmp"));
    assert_eq!(t["mountPoints"][0]["containerPath"], "/tmp");
    // Stopping: SIGTERM, and ecsd's own shutdown deadline inside ECS's stop timeout.
    assert_eq!(image["StopSignal"], "SIGTERM");
    let stop_timeout = c["StopTimeout"].as_i64().expect("StopTimeout");
    assert_eq!(t["stopTimeout"], stop_timeout);
    let env_value = |name: &str| {
        c["Environment"]
            .as_vec()
            .into_iter()
            .flatten()
            .find(|e| e["Name"].as_str() == Some(name))
            .and_then(|e| e["Value"].as_str().map(str::to_owned))
    };
    let shutdown = env_value("ECSD_SHUTDOWN_TIMEOUT").expect("ECSD_SHUTDOWN_TIMEOUT");
    let secs: i64 = shutdown.trim_end_matches('s').parse().expect("seconds");
    assert!(
        secs + 5 <= stop_timeout,
        "{shutdown} in a {stop_timeout} s stop"
    );
    // Every environment variable the templates set is one ecsd reads.
    let help = docker_ok(&[
        "run",
        "--rm",
        "--read-only",
        &images.runtime,
        "run",
        "--help",
    ])
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ");
    let mut names: Vec<String> = c["Environment"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|e| e["Name"].as_str().map(str::to_owned))
        .collect();
    names.extend(
        t["environment"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str().map(str::to_owned)),
    );
    names.extend(
        image["Env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_owned()))
            .filter(|k| k.starts_with("ECSD_")),
    );
    assert!(names.iter().any(|n| n == "ECSD_LOG_FORMAT"), "{names:?}");
    for n in names {
        assert!(
            help.contains(&format!("[env: {n}=")),
            "ecsd run reads no {n}"
        );
    }
}
