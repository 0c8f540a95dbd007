//! Group id reservation and the life cycle of an id.

use ds_server::storage::{GroupIdStatus, NewGroup, StorageError};

use crate::support::{TestDb, at, commit, create_group, entry, on_both_backends};

on_both_backends!(
    group_id_goes_free_reserved_in_use_deleted,
    create_needs_a_reservation,
    stale_reservations_are_released,
    create_group_stores_initial_entries_for_initial_members,
);

async fn group_id_goes_free_reserved_in_use_deleted(db: TestDb) {
    let store = &db.store;
    let id = "g1@a.example";
    assert_eq!(
        store.group_id_status(id).await.unwrap(),
        GroupIdStatus::Free
    );
    store.allocate_group_id(id, at(1)).await.unwrap();
    assert_eq!(
        store.group_id_status(id).await.unwrap(),
        GroupIdStatus::Reserved
    );
    assert!(store.load_group(id).await.unwrap().is_none());
    assert!(matches!(
        store.allocate_group_id(id, at(2)).await,
        Err(StorageError::GroupIdTaken(taken)) if taken == id
    ));

    let group = NewGroup {
        group_id: id.to_owned(),
        epoch: 0,
        state: b"s0".to_vec(),
        members: vec!["alice@a.example/1".to_owned()],
        entries: Vec::new(),
    };
    let created = store.create_group(&group, at(3)).await.unwrap();
    assert_eq!(created.revision, 0);
    assert!(created.entry_seqs.is_empty());
    assert_eq!(
        store.group_id_status(id).await.unwrap(),
        GroupIdStatus::InUse
    );
    let row = store.load_group(id).await.unwrap().unwrap();
    assert_eq!((row.epoch, row.revision, row.next_seq), (0, 0, 1));
    assert_eq!(row.state, b"s0");

    let mut delete = commit(id, &row, "alice@a.example/1");
    delete.delete_group = true;
    store.commit_group_change(&delete, at(4)).await.unwrap();
    assert_eq!(
        store.group_id_status(id).await.unwrap(),
        GroupIdStatus::Deleted
    );
    assert!(store.load_group(id).await.unwrap().is_none());
    assert!(matches!(
        store.allocate_group_id(id, at(5)).await,
        Err(StorageError::GroupIdTaken(_))
    ));
    assert!(matches!(
        store.create_group(&group, at(5)).await,
        Err(StorageError::GroupIdNotReserved(_))
    ));
}

async fn create_needs_a_reservation(db: TestDb) {
    let store = &db.store;
    let group = NewGroup {
        group_id: "never-reserved@a.example".to_owned(),
        epoch: 0,
        state: b"s".to_vec(),
        members: Vec::new(),
        entries: Vec::new(),
    };
    assert!(matches!(
        store.create_group(&group, at(1)).await,
        Err(StorageError::GroupIdNotReserved(_))
    ));
    assert_eq!(db.rows("groups").await, 0);

    create_group(store, "g@a.example", &["alice@a.example/1"]).await;
    let again = NewGroup {
        group_id: "g@a.example".to_owned(),
        ..group
    };
    assert!(matches!(
        store.create_group(&again, at(2)).await,
        Err(StorageError::GroupIdNotReserved(_))
    ));
}

async fn stale_reservations_are_released(db: TestDb) {
    let store = &db.store;
    store
        .allocate_group_id("old@a.example", at(10))
        .await
        .unwrap();
    store
        .allocate_group_id("new@a.example", at(100))
        .await
        .unwrap();
    create_group(store, "live@a.example", &[]).await; // reserved at 100, now in use

    assert_eq!(store.release_stale_reservations(at(50)).await.unwrap(), 1);
    assert_eq!(
        store.group_id_status("old@a.example").await.unwrap(),
        GroupIdStatus::Free
    );
    assert_eq!(
        store.group_id_status("new@a.example").await.unwrap(),
        GroupIdStatus::Reserved
    );
    assert_eq!(
        store.release_stale_reservations(at(1_000)).await.unwrap(),
        1
    );
    assert_eq!(
        store.group_id_status("live@a.example").await.unwrap(),
        GroupIdStatus::InUse
    );
}

async fn create_group_stores_initial_entries_for_initial_members(db: TestDb) {
    let store = &db.store;
    store.allocate_group_id("g@a.example", at(1)).await.unwrap();
    let created = store
        .create_group(
            &NewGroup {
                group_id: "g@a.example".to_owned(),
                epoch: 3,
                state: b"s3".to_vec(),
                members: vec!["bob@a.example/1".to_owned(), "alice@a.example/1".to_owned()],
                entries: vec![
                    entry("alice@a.example/1", "first"),
                    entry("alice@a.example/1", "second"),
                ],
            },
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(created.entry_seqs, vec![1, 2]);
    let row = store.load_group("g@a.example").await.unwrap().unwrap();
    assert_eq!((row.epoch, row.next_seq), (3, 3));
    assert_eq!(
        store.current_members("g@a.example").await.unwrap(),
        vec!["alice@a.example/1", "bob@a.example/1"]
    );
    let page = store
        .sync("bob@a.example/1", &Default::default(), 10)
        .await
        .unwrap();
    let seqs: Vec<u64> = page.group_entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2]);
    assert_eq!(page.group_entries[0].message, b"first");
    assert_eq!(
        page.group_entries[0].sender.as_deref(),
        Some("alice@a.example/1")
    );
}
