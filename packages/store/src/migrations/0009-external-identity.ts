import { type Kysely, sql } from 'kysely'

/**
 * External identity (issue 20): the host product's own users, and how each audited actor signed in.
 *
 * - `users.external_id`: the host's id for the user (a host token's `sub`, or given with the platform
 *   token); unique, and never moved to another user once set.
 * - `audit_log.actor_via`: how the actor authenticated (`session`, `api_key`, `host_token`, `platform`), and
 *   `actor_credential_id` the credential's id where it has one (the platform token acting as a user, the API
 *   key). Entries made before this migration have neither, and hash as they always did (audit.repository.ts
 *   leaves null fields out of an entry's hash), so existing chains still verify.
 * - `sessions.second_factor`: a session handed off from a host token whose `amr` proved a second factor; such
 *   a session passes an org's required 2FA as the token would have.
 * - `orgkit_decide` (the SQL evaluator, migration 0008) takes `p_mfa`: the request proved a second factor
 *   (`Subject.mfa`), so the database answers a fallback check as the engine does. The function is 0008's
 *   but for that parameter and the one line that reads it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table users add column external_id text;
    create unique index users_external_id_key on users (external_id);
    alter table audit_log add column actor_via text, add column actor_credential_id text;
    alter table sessions add column second_factor boolean not null default false;
    drop function orgkit_decide(uuid, uuid, text, boolean, text[], text[], text[], boolean[], text[], text[],
      text[], timestamptz, text, uuid[]);
  `.execute(db)
  await sql`
    create function orgkit_decide(
      p_user uuid, p_key uuid, p_permission text, p_overridable boolean,
      p_role_keys text[], p_role_scopes text[], p_role_slots text[], p_role_grants boolean[],
      p_levels text[], p_level_scopes text[], p_level_roles text[],
      p_now timestamptz, p_target_type text, p_target_ids uuid[], p_mfa boolean default false
    ) returns table (t_org uuid, t_res uuid, reason text)
    language plpgsql stable
    set plan_cache_mode = force_generic_plan
    as $fn$
    #variable_conflict use_column
    declare
      v_orgs uuid[];
      v_res uuid[];
      v_owner uuid;
    begin
      if p_target_ids is not null then
        if p_target_type = 'org' then
          select array_agg(o.id), array_agg(null::uuid) into v_orgs, v_res
          from orgs o where o.id = any(p_target_ids);
        else
          select array_agg(r.org_id), array_agg(r.id) into v_orgs, v_res
          from resources r where r.id = any(p_target_ids) and r.type = p_target_type;
        end if;
      else
        v_owner := coalesce(p_user, (select k.user_id from api_keys k where k.id = p_key));
        with recursive below (id) as (
          select ms.org_id from memberships ms where ms.user_id = v_owner and ms.status = 'active'
          union
          select r.org_id from bindings b join resources r on r.id = b.resource_id where b.user_id = v_owner
          union
          select r.org_id from overrides o join resources r on r.id = o.resource_id where o.user_id = v_owner
          union
          select o.id from orgs o join below on o.parent_id = below.id
        )
        select array_agg(x.org_id), array_agg(x.id) into v_orgs, v_res
        from (
          select o.id as org_id, null::uuid as id from orgs o
          where p_target_type = 'org' and o.id in (select id from below)
          union all
          select r.org_id, r.id from resources r
          where p_target_type <> 'org' and r.type = p_target_type and r.org_id in (select id from below)
        ) x;
      end if;
      if v_orgs is null then
        return;
      end if;
      return query
    with recursive
    model_roles (key, scope, slot, grants) as (
      select * from unnest(p_role_keys, p_role_scopes, p_role_slots, p_role_grants)
    ),
    team_levels (level, scope_type, role_key) as (
      select * from unnest(p_levels, p_level_scopes, p_level_roles)
    ),
    -- The user decided for: the subject, or the key's owner with the key's state and limits.
    subj as (
      select u.id as user_id, u.mfa_enabled, u.compliant_password_policies as compliant,
        null::uuid as key_id, false as key_revoked, null::timestamptz as key_expires,
        null::uuid[] as key_orgs, null::uuid[] as key_resources, null::text[] as key_permissions
      from users u where u.id = p_user
      union all
      select u.id, u.mfa_enabled, u.compliant_password_policies,
        k.id, k.revoked_at is not null, k.expires_at, k.org_ids, k.resource_ids, k.permissions
      from api_keys k join users u on u.id = k.user_id where k.id = p_key
    ),
    targets (t_org, t_res) as (select * from unnest(v_orgs, v_res)),
    -- Each target's org and every org above it, nearest first (depth 0).
    org_chain (t_org, org_id, depth) as (
      select distinct t_org, t_org, 0 from targets
      union all
      select c.t_org, o.parent_id, c.depth + 1
      from org_chain c join orgs o on o.id = c.org_id
      where o.parent_id is not null and c.depth < 64
    ),
    -- Each target resource and every resource above it.
    res_chain (t_res, res_id) as (
      select distinct t_res, t_res from targets where t_res is not null
      union all
      select c.t_res, r.parent_id
      from res_chain c join resources r on r.id = c.res_id
      where r.parent_id is not null
    ),
    -- Step 4: groups of the target's org chain that hold the user, in orgs where the user is an active
    -- member; with the key a team binding resolves to for this member (SPEC 1.3).
    my_groups (t_org, group_id, team_key) as (
      select c.t_org, g.id,
        case when go.single_role_teams then g.role else coalesce(gm.member_role, g.role) end
      from subj s
      join group_members gm on gm.user_id = s.user_id
      join groups g on g.id = gm.group_id
      join orgs go on go.id = g.org_id
      join memberships ms on ms.org_id = g.org_id and ms.user_id = s.user_id and ms.status = 'active'
      join org_chain c on c.org_id = g.org_id
    ),
    -- Every binding that may count, with the role key it names for this principal. depth is null for
    -- resource bindings (a union) and the org's distance for org bindings (slots replace by nearest).
    candidates (t_org, t_res, depth, principal, role_key, is_team, scope_type, b_org, expires_at) as (
      select t.t_org, t.t_res, null::int, null::uuid, nullif(b.role, 'team'), false, b.scope_type,
        r.org_id, b.expires_at
      from targets t
      join res_chain rc on rc.t_res = t.t_res
      join bindings b on b.resource_id = rc.res_id
      join resources r on r.id = b.resource_id
      join subj s on b.user_id = s.user_id
      union all
      select t.t_org, t.t_res, null::int, g.group_id,
        case when b.role = 'team' then g.team_key else b.role end, b.role = 'team', b.scope_type,
        r.org_id, b.expires_at
      from targets t
      join res_chain rc on rc.t_res = t.t_res
      join my_groups g on g.t_org = t.t_org
      join bindings b on b.resource_id = rc.res_id and b.group_id = g.group_id
      join resources r on r.id = b.resource_id
      union all
      -- A user's own org bindings count only where the user is an active member.
      select t.t_org, t.t_res, c.depth, null::uuid, nullif(b.role, 'team'), false, b.scope_type,
        b.org_id, b.expires_at
      from targets t
      join org_chain c on c.t_org = t.t_org
      join subj s on true
      join bindings b on b.user_id = s.user_id and b.org_id = c.org_id and b.resource_id is null
      join memberships ms on ms.org_id = c.org_id and ms.user_id = s.user_id and ms.status = 'active'
      union all
      select t.t_org, t.t_res, c.depth, g.group_id,
        case when b.role = 'team' then g.team_key else b.role end, b.role = 'team', b.scope_type,
        b.org_id, b.expires_at
      from targets t
      join org_chain c on c.t_org = t.t_org
      join my_groups g on g.t_org = t.t_org
      join bindings b on b.group_id = g.group_id and b.org_id = c.org_id and b.resource_id is null
    ),
    -- Unexpired bindings whose role resolves: the model's role of that key, else the binding org's custom
    -- role; a team level names a role per scope type; a role counts only at its own scope type.
    valid (t_org, t_res, depth, principal, slot, grants) as (
      select c.t_org, c.t_res, c.depth, c.principal, coalesce(mr.slot, cr.slot),
        coalesce(mr.grants, p_permission = any(cr.permissions))
      from candidates c
      left join team_levels tl on c.is_team and tl.level = c.role_key and tl.scope_type = c.scope_type
      left join model_roles mr on mr.key = coalesce(tl.role_key, c.role_key)
      left join custom_roles cr
        on mr.key is null and cr.org_id = c.b_org and cr.key = coalesce(tl.role_key, c.role_key)
      where (c.expires_at is null or c.expires_at > p_now)
        and coalesce(mr.scope, cr.scope) = c.scope_type
    ),
    -- Per principal and slot, only the nearest org holding a role of that slot counts.
    granted (t_org, t_res) as (
      select distinct t_org, t_res from (
        select v.*, min(v.depth) over (partition by v.t_org, v.t_res, v.principal, v.slot) as nearest
        from valid v
      ) x
      where x.grants and (x.depth is null or x.depth = x.nearest)
    )
    select t.t_org, t.t_res,
      case
        when s.user_id is null then 'not_found'
        when s.key_id is not null and s.key_revoked then 'key_revoked'
        when s.key_id is not null and s.key_expires <= p_now then 'key_expired'
        when s.key_orgs is not null and not exists (
          select 1 from org_chain c where c.t_org = t.t_org and c.org_id = any(s.key_orgs)
        ) then 'key_scope'
        when s.key_resources is not null and not exists (
          select 1 from res_chain c where c.t_res = t.t_res and c.res_id = any(s.key_resources)
        ) then 'key_scope'
        when s.key_permissions is not null and not (p_permission = any(s.key_permissions)) then 'key_scope'
        -- p_mfa: the request proved a second factor (a host token's amr), which passes the 2FA gate.
        when not (s.mfa_enabled or (p_mfa and s.key_id is null)) and exists (
          select 1 from org_chain c join orgs o on o.id = c.org_id where c.t_org = t.t_org and o.require_mfa
        ) then 'mfa_required'
        when exists (
          select 1 from org_chain c join orgs o on o.id = c.org_id
          where c.t_org = t.t_org and o.password_policy_id is not null
            and not (o.password_policy_id = any(s.compliant))
        ) then 'password_policy'
        when uo.effect = 'allow' then 'override'
        when uo.effect = 'deny' then 'override_deny'
        when p_overridable and t.t_res is not null and exists (
          select 1 from overrides o join my_groups g on g.group_id = o.group_id and g.t_org = t.t_org
          where o.resource_id = t.t_res and o.permission = p_permission and o.effect = 'deny'
        ) then 'override_deny'
        when p_overridable and t.t_res is not null and exists (
          select 1 from overrides o join my_groups g on g.group_id = o.group_id and g.t_org = t.t_org
          where o.resource_id = t.t_res and o.permission = p_permission and o.effect = 'allow'
        ) then 'override'
        when exists (
          select 1 from granted gr where gr.t_org = t.t_org and gr.t_res is not distinct from t.t_res
        ) then 'role'
        else 'no_grant'
      end as reason
    from targets t
    left join subj s on true
    left join overrides uo
      on p_overridable and uo.resource_id = t.t_res and uo.permission = p_permission
        and uo.user_id = s.user_id;
    end
    $fn$;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop function orgkit_decide(uuid, uuid, text, boolean, text[], text[], text[], boolean[], text[], text[],
      text[], timestamptz, text, uuid[], boolean);
    alter table sessions drop column second_factor;
    alter table audit_log drop column actor_via, drop column actor_credential_id;
    drop index users_external_id_key;
    alter table users drop column external_id;
  `.execute(db)
  const { up: restore } = await import('./0008-sql-evaluator.ts')
  await restore(db)
}
