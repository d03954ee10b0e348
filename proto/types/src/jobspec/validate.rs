//! RFC 25 (Jobspec V1) restrictions on a decoded jobspec.

use super::{Count, Jobspec, JobspecError, Resource, ResourceType, TaskCount};

pub(super) fn v1(js: &Jobspec) -> Result<(), JobspecError> {
    if js.version != 1 {
        return Err(JobspecError::UnsupportedVersion(js.version.to_string()));
    }
    if js.resources.len() != 1 {
        return Err(JobspecError::Cardinality {
            what: "resources",
            count: js.resources.len(),
        });
    }
    for r in js.resources.iter().flat_map(Resource::walk) {
        check_vertex(r)?;
    }
    let top = &js.resources[0];
    let slot = match top.kind {
        ResourceType::Node => {
            let [slot] = top.with.as_slice() else {
                return Err(shape("node must contain exactly one slot"));
            };
            if slot.kind != ResourceType::Slot {
                return Err(shape("node must contain exactly one slot"));
            }
            slot
        }
        ResourceType::Slot => top,
        _ => return Err(shape("top level resource must be node or slot")),
    };
    check_slot(slot)?;
    if js.tasks.len() != 1 {
        return Err(JobspecError::Cardinality {
            what: "tasks",
            count: js.tasks.len(),
        });
    }
    let task = &js.tasks[0];
    if task.command.is_empty() {
        return Err(JobspecError::EmptyCommand);
    }
    if slot.label.as_deref() != Some(task.slot.as_str()) {
        return Err(JobspecError::UnknownSlot(task.slot.clone()));
    }
    match task.count {
        TaskCount::PerSlot(n) | TaskCount::Total(n) if n >= 1 => {}
        ref c => {
            return Err(JobspecError::Count {
                what: "task".into(),
                count: format!("{c:?}"),
            });
        }
    }
    let secs = js.attributes.system.duration.secs();
    if !secs.is_finite() || secs < 0.0 {
        return Err(JobspecError::Duration(secs.to_string()));
    }
    Ok(())
}

fn shape(msg: &str) -> JobspecError {
    JobspecError::Shape(msg.to_string())
}

/// Type and count rules shared by every vertex.
fn check_vertex(r: &Resource) -> Result<(), JobspecError> {
    if let ResourceType::Other(t) = &r.kind {
        return Err(JobspecError::ResourceType(t.clone()));
    }
    match r.count {
        Count::Fixed(n) if n >= 1 => Ok(()),
        ref c => Err(JobspecError::Count {
            what: r.kind.to_string(),
            count: c.to_string(),
        }),
    }
}

/// slot > (core | core,gpu), cores mandatory, children are leaves.
fn check_slot(slot: &Resource) -> Result<(), JobspecError> {
    if slot.label.is_none() {
        return Err(JobspecError::MissingLabel);
    }
    if slot.with.is_empty() || slot.with.len() > 2 {
        return Err(shape("slot with array must have 1-2 elements"));
    }
    let mut cores = 0;
    let mut gpus = 0;
    for child in &slot.with {
        match child.kind {
            ResourceType::Core => cores += 1,
            ResourceType::Gpu => gpus += 1,
            _ => return Err(shape("slot with type must be core or gpu")),
        }
        if !child.with.is_empty() {
            return Err(shape("core and gpu must not contain other resources"));
        }
    }
    if cores != 1 || gpus > 1 {
        return Err(shape("slot must contain one core and at most one gpu"));
    }
    Ok(())
}
