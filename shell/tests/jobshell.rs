//! The JobShell actor on its own: tasks started, their output, exits and PMI reported to an
//! owner that records the events.

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use flux_shell::jobshell::Stream;
use flux_shell::{JobShell, ShellEvent, ShellSpec};

/// Records events; `Done` ends the test's wait.
struct Owner {
    events: Arc<Mutex<Vec<ShellEvent>>>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Actor for Owner {
    type Context = Context<Self>;
}

impl Handler<ShellEvent> for Owner {
    type Result = ();

    fn handle(&mut self, event: ShellEvent, _: &mut Context<Self>) {
        let done = matches!(event, ShellEvent::Done { .. });
        self.events.lock().unwrap().push(event);
        if done && let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

async fn run(spec: ShellSpec) -> Vec<ShellEvent> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let owner = Owner {
        events: events.clone(),
        done: Some(tx),
    }
    .start();
    JobShell::new(spec, owner.recipient()).start();
    rx.await.unwrap();
    events.lock().unwrap().clone()
}

fn spec(script: &str, tasks: Vec<u32>) -> ShellSpec {
    ShellSpec {
        jobid: 7,
        name: "fTest".into(),
        nshells: 1,
        size: tasks.len() as u32,
        tasks,
        argv: vec!["bash".into(), "-c".into(), script.into()],
        env: std::env::vars().collect(),
        pmi: true,
        ..Default::default()
    }
}

fn output(events: &[ShellEvent], rank: u32) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::Output {
                rank: r,
                stream: Stream::Stdout,
                data,
                ..
            } if *r == rank => Some(data.as_str()),
            _ => None,
        })
        .collect()
}

#[actix_rt::test]
async fn tasks_report_output_exits_and_the_worst_status() {
    let events = run(spec(
        "echo local $FLUX_TASK_LOCAL_ID pmi $PMI_RANK/$PMI_SIZE; exit $FLUX_TASK_RANK",
        vec![4, 5],
    ))
    .await;
    assert_eq!(output(&events, 4), "local 0 pmi 4/2\n");
    assert_eq!(output(&events, 5), "local 1 pmi 5/2\n");
    let exits: Vec<(u32, i32)> = events
        .iter()
        .filter_map(|e| match e {
            ShellEvent::TaskExit { rank, status, .. } => Some((*rank, *status)),
            _ => None,
        })
        .collect();
    assert_eq!(exits.len(), 2);
    assert!(exits.contains(&(5, 5 << 8)));
    assert_eq!(
        events.last(),
        Some(&ShellEvent::Done {
            jobid: 7,
            status: 5 << 8
        })
    );
}

#[actix_rt::test]
async fn pmi_answers_and_refuses_garbage() {
    let script = "echo 'cmd=init pmi_version=1 pmi_subversion=1' >&$PMI_FD; \
        read a <&$PMI_FD; echo $a; echo 'cmd=barrier_in' >&$PMI_FD; read b <&$PMI_FD; echo $b; \
        echo garbage >&$PMI_FD; read c <&$PMI_FD; echo $c";
    let events = run(spec(script, vec![0])).await;
    assert_eq!(
        output(&events, 0),
        "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1\n\
         cmd=barrier_out rc=0\n\
         cmd=error rc=-1 msg=PMI: malformed line 'garbage'\n"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        ShellEvent::Exception { note, .. } if note == "task 0: PMI: malformed line 'garbage'"
    )));
}
