use crate::both_backends;

both_backends! {
    async fn provinces_and_children(app) {
        // A list answers a page: 31 provinces, 20 on the first page by default.
        let first = app.get("/api/v1/regions", None).await.expect(200);
        assert_eq!((first["total"].as_i64(), first["items"].as_array().unwrap().len()), (Some(31), 20));
        let second = app.get("/api/v1/regions?page=2", None).await.expect(200);
        assert_eq!(second["items"].as_array().unwrap().len(), 11);
        assert_ne!(first["items"][0], second["items"][0]);
        let provinces = app.get("/api/v1/regions?per_page=100", None).await.expect(200);
        let provinces = provinces["items"].as_array().unwrap();
        assert_eq!(provinces.len(), 31);
        assert!(provinces.iter().all(|p| p["level"] == "province" && p["parent_code"].is_null()));
        assert!(provinces.iter().any(|p| p["code"] == "440000" && p["name"] == "广东省"));

        let counties = app.get("/api/v1/regions?parent=140500&per_page=100", None).await.expect(200);
        let qinshui = counties["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "140521")
            .expect("沁水县 under 晋城市");
        assert_eq!(qinshui["name"], "沁水县");
        assert_eq!(qinshui["level"], "county");

        app.get("/api/v1/regions?parent=999900", None)
            .await
            .expect_problem(404, "region_not_found");
    }

    async fn one_region_by_code(app) {
        let body = app.get("/api/v1/regions/440303", None).await.expect(200);
        assert_eq!(
            body,
            serde_json::json!({"code": "440303", "name": "罗湖区", "level": "county", "parent_code": "440300"})
        );
        // The second read is served from the cache and must say the same.
        assert_eq!(app.get("/api/v1/regions/440303", None).await.expect(200), body);
        let city = app.get("/api/v1/regions/440300", None).await.expect(200);
        assert_eq!((city["name"].as_str(), city["level"].as_str()), (Some("深圳市"), Some("city")));
        app.get("/api/v1/regions/999999", None)
            .await
            .expect_problem(404, "region_not_found");
    }
}
