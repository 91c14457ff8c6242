//! `scholactl group …`: add and list groups, and list or change a group's members and owners.

use anyhow::{Context as _, Result, bail};
use schola_core::audit::Actor;
use schola_core::directory::{GroupKind, MemberRole, NewGroup};
use serde_json::json;

use crate::cli::{GroupAddArgs, GroupMembersArgs};
use crate::context::Ctx;
use crate::output::{self, printable};

pub fn add(ctx: &Ctx, args: GroupAddArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let name = args.name.clone();
    let group = store
        .create_group(
            &Actor::cli(),
            NewGroup {
                name: args.name,
                display_name: args.display_name,
                kind: args.kind,
                external_id: args.external_id,
            },
        )
        .with_context(|| format!("cannot add the group '{}'", printable(&name)))?;
    if ctx.json {
        return output::print_json(&group);
    }
    output::print(&format!(
        "added the {} group {} (\"{}\")\n",
        group.kind, group.name, group.display_name
    ))
}

pub fn list(ctx: &Ctx, kind: Option<GroupKind>) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    let groups = store.list_groups(kind).context("cannot list groups")?;
    if ctx.json {
        return output::print_json(&groups);
    }
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.kind.to_string(),
                g.members.to_string(),
                g.owners.to_string(),
                g.display_name.clone(),
            ]
        })
        .collect();
    let mut text = output::table(
        &["name", "kind", "members", "owners", "display name"],
        &rows,
    );
    text.push_str(&output::count(groups.len(), "group", "groups"));
    text.push('\n');
    output::print(&text)
}

pub fn members(ctx: &Ctx, args: GroupMembersArgs) -> Result<()> {
    let cfg = ctx.config()?;
    let store = ctx.store(&cfg)?;
    if store.group(&args.name)?.is_none() {
        bail!("there is no group '{}'", printable(&args.name));
    }
    if args.add.is_empty() && args.remove.is_empty() {
        return list_members(ctx, &store, &args.name);
    }
    let role = if args.owner {
        MemberRole::Owner
    } else {
        MemberRole::Member
    };
    // One transaction: a typo in the fifth login leaves the first four unchanged too.
    let (added, removed, unchanged) = store
        .batch(&Actor::cli(), |b| {
            let (mut added, mut removed, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
            for login in &args.add {
                let list = if b.add_member(&args.name, login, role)? {
                    &mut added
                } else {
                    &mut unchanged
                };
                list.push(login.clone());
            }
            for login in &args.remove {
                let list = if b.remove_member(&args.name, login, role)? {
                    &mut removed
                } else {
                    &mut unchanged
                };
                list.push(login.clone());
            }
            Ok((added, removed, unchanged))
        })
        .with_context(|| format!("nothing was changed in '{}'", args.name))?;
    if ctx.json {
        return output::print_json(&json!({
            "group": args.name,
            "as": role,
            "added": added,
            "removed": removed,
            "unchanged": unchanged,
        }));
    }
    let mut text = String::new();
    for login in &added {
        text.push_str(&format!("added {login} to {} as {role}\n", args.name));
    }
    for login in &removed {
        text.push_str(&format!("removed {login} as {role} from {}\n", args.name));
    }
    for login in &unchanged {
        let was = if args.add.contains(login) {
            "already"
        } else {
            "not"
        };
        text.push_str(&format!("{login} is {was} {role} of {}\n", args.name));
    }
    output::print(&text)
}

fn list_members(ctx: &Ctx, store: &schola_core::Store, group: &str) -> Result<()> {
    let members = store.group_members(group)?;
    if ctx.json {
        let list: Vec<_> = members
            .iter()
            .map(|(p, m)| {
                json!({
                    "login": p.login,
                    "display_name": p.display_name,
                    "role": p.role,
                    "status": p.status,
                    "membership": m,
                })
            })
            .collect();
        return output::print_json(&list);
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|(p, m)| {
            vec![
                p.login.clone(),
                p.display_name.clone(),
                p.role.to_string(),
                m.to_string(),
            ]
        })
        .collect();
    let owners = members
        .iter()
        .filter(|(_, m)| *m == MemberRole::Owner)
        .count();
    let mut text = output::table(&["login", "name", "role", "in group as"], &rows);
    text.push_str(&format!(
        "{}, {}\n",
        output::count(members.len() - owners, "member", "members"),
        output::count(owners, "owner", "owners")
    ));
    output::print(&text)
}
