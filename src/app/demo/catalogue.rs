//! The demo's fixed lists: thirty partner merchants (鹏军百宝箱 in 罗湖区 and 福田区,
//! 爱国拥军联盟 in 沁水县) and their offers, one a line, `|` between fields. The first
//! merchant is the one whose staff account and till the demo prints.

/// name | kind | category | region | address | latitude | longitude | services |
/// emergency capabilities (`,`) | fate: active, suspended, revoked, expired, notice,
/// notice+objection, rejected_by_objection, rejected_by_review, pending:N (N
/// departments have passed it).
pub const MERCHANTS: &str = "\
深圳市罗湖区拥军大药房|enterprise|pharmacy|440303|深圳市罗湖区人民南路1号|22.5431|114.1182|现役军人、退役军人购药九折|medical,supplies|active
中国石化深圳罗湖拥军加油站|enterprise|fuel|440303|深圳市罗湖区深南东路2001号|22.5482|114.1316|八一满减、日常加油优惠|transport,supplies|active
深圳航空拥军服务中心|enterprise|aviation|440304|深圳市福田区深南大道6011号|22.5405|114.0270|机票折上折，同行家属同享|transport,logistics|active
深圳书城福田拥军书香驿站|enterprise|books_culture|440304|深圳市福田区福中一路2014号|22.5445|114.0590|书香优待卡购书八折||active
罗湖区人民医院拥军门诊|social_org|medical|440303|深圳市罗湖区友谊路47号|22.5526|114.1248|医疗卡免费体检、就医绿色通道|medical|active
深圳市福田区中医院拥军诊室|social_org|medical|440304|深圳市福田区北环大道6001号|22.5610|114.0550|挂号费全免|medical|active
深拥粮油供应站（罗湖）|enterprise|grain_oil|440303|深圳市罗湖区东门中路88号|22.5470|114.1190|深拥粮卡特价米油|supplies,logistics|active
中国移动福田拥军营业厅|enterprise|telecom|440304|深圳市福田区深南中路3024号|22.5420|114.0880|赠送拥军流量包|telecom,radio_spectrum|active
中国人寿深圳拥军保险服务站|enterprise|insurance|440304|深圳市福田区益田路6003号|22.5360|114.0560|赠送一年期意外险||active
深圳巴士集团罗湖拥军服务站|enterprise|transport|440303|深圳市罗湖区建设路1003号|22.5340|114.1170|公交免费乘车|transport|active
中国联通罗湖拥军营业厅|enterprise|telecom|440303|深圳市罗湖区解放路2002号|22.5460|114.1100|话费充值九折|telecom|active
福田康民药店|individual_business|pharmacy|440304|深圳市福田区华强北路1019号|22.5450|114.0860|购药九五折|medical|suspended
罗湖东晓通讯器材店|individual_business|telecom|440303|深圳市罗湖区东晓路3012号|22.5690|114.1240|手机配件八八折||suspended
罗湖友谊加油站|enterprise|fuel|440303|深圳市罗湖区宝安南路1088号|22.5480|114.1060|凭卡加油立减5元||revoked
沁水县龙港粮油批发部|individual_business|grain_oil|140521|山西省晋城市沁水县龙港镇新建街12号|35.6905|112.1870|米面油九五折|supplies|revoked
福田安心保险代理有限公司|enterprise|insurance|440304|深圳市福田区金田路4036号|22.5390|114.0640|车险优惠||rejected_by_review
沁水县端氏书社|individual_business|books_culture|140521|山西省晋城市沁水县端氏镇中街3号|35.7350|112.4010|购书九折||rejected_by_objection
罗湖仁爱健康体检中心|enterprise|medical|440303|深圳市罗湖区笋岗东路3019号|22.5640|114.1130|体检八折|medical|expired
福田拥军出租车服务队|social_org|transport|440304|深圳市福田区泰然九路1号|22.5330|114.0260|就医接送免费|transport|notice+objection
中国石油沁水县城加油站|enterprise|fuel|140521|山西省晋城市沁水县龙港镇梅杏路66号|35.6880|112.1920|八一加油满减|transport|notice
罗湖益民大药房|enterprise|pharmacy|440303|深圳市罗湖区翠竹路2088号|22.5600|114.1280|购药九折|medical|pending:4
福田华富加油站|enterprise|fuel|440304|深圳市福田区华富路1018号|22.5480|114.0780|加油每升优惠0.3元|transport|pending:3
沁水县中医院|social_org|medical|140521|山西省晋城市沁水县龙港镇杏园路5号|35.6950|112.1800|挂号免费、中医理疗九折|medical|pending:1
福田少年宫书店|enterprise|books_culture|440304|深圳市福田区红荔路6006号|22.5500|114.0560|军属子女购书八五折||pending:0
沁水县城乡公交公司|enterprise|transport|140521|山西省晋城市沁水县龙港镇滨河路8号|35.6870|112.1850|县内公交免费|transport|pending:0
沁水县人民医院|social_org|medical|140521|山西省晋城市沁水县龙港镇人民街1号|35.6920|112.1830|医疗卡免费体检、绿色通道|medical|active
沁水县拥军粮油店|individual_business|grain_oil|140521|山西省晋城市沁水县龙港镇东大街20号|35.6900|112.1900|米面油满50减5|supplies|active
中国联通沁水营业厅|enterprise|telecom|140521|山西省晋城市沁水县龙港镇府前街9号|35.6910|112.1860|赠送流量|telecom|active
中国石化沁水嘉峰加油站|enterprise|fuel|140521|山西省晋城市沁水县嘉峰镇208国道旁|35.7600|112.4500|八一满减、日常立减|transport|active
沁水县新华书店|enterprise|books_culture|140521|山西省晋城市沁水县龙港镇文化街2号|35.6930|112.1880|书香优待卡购书八五折||active
";

/// merchant (line number above, from 1) | title | kind | terms (percent, fen or the
/// gift) | eligible categories (`,`) | card products (`,`) | companions | total quota |
/// per-holder limit (`N/period`) | recurring dates (`,`) | description.
pub const OFFERS: &str = "\
1|凭卡购药九折|percent_off|10|||2||8/month||持拥军优待卡购药九折，同行家属同享
1|拥军绿色通道|priority_service||||0||||凭卡优先结算、专人引导
2|八一建军节加油满200减30|amount_off|3000||||800|1/year|08-01|每年8月1日凭卡加油满200元立减30元，名额有限，用完即止
2|凭卡加油每次立减10元|amount_off|1000|||||4/month||现役军人、退役军人凭卡加油，每月限4次
3|机票折上折（再享95折）|percent_off|5|active_duty,veteran,disabled_veteran,military_family,martyr_family||3||||在公布运价基础上再享95折，最多3名同行直系亲属
3|优先值机、优先登机|priority_service||||1||||机场拥军绿色通道
4|书香优待卡购书八折|percent_off|20||book|0||||持书香优待卡购买图书八折
5|专属医疗卡年度免费体检|free|||medical|0||1/year||持专属医疗卡每年免费体检一次
5|就医绿色通道|priority_service||||0||||优先挂号、优先就诊、优先取药
6|挂号费全免|free||||0||2/month||凭卡免收普通门诊挂号费
7|深拥粮卡：拥军大米10公斤39.9元|fixed_price|3990||grain|0||2/month||持深拥粮卡每月限购2袋
8|每月赠送10GB拥军流量包|gift|10GB国内流量包|||0||1/month||凭卡到厅办理，每月一次
9|赠送一年期意外伤害保险|gift|一年期意外伤害保险一份|||0||1/lifetime||每人限领一次
10|公交免费乘车|free||active_duty,disabled_veteran,martyr_family||0||4/day||现役军人、残疾军人、烈士遗属免费乘车
11|话费充值九折|percent_off|10|||0||2/month||凭卡充值话费九折
12|购药九五折|percent_off|5|||0||||凭卡购药九五折
13|手机配件八八折|percent_off|12|||0||||凭卡购买配件八八折
14|凭卡加油立减5元|amount_off|500|||0||||凭卡加油立减5元
15|米面油九五折|percent_off|5|||0||||凭卡购买米面油九五折
26|专属医疗卡免费体检|free|||medical|0||1/year||持专属医疗卡每年免费体检一次
26|拥军就医绿色通道|priority_service||||1||||优先挂号、优先就诊
27|米面油满50减5|amount_off|500|||0||2/month||凭卡购买米面油满50元减5元
28|每月赠送5GB流量|gift|5GB国内流量|||0||1/month||凭卡到厅办理，每月一次
29|八一建军节加油满200减30|amount_off|3000||||500|1/year|08-01|每年8月1日凭卡加油满200元立减30元，名额有限
29|凭卡加油每次立减10元|amount_off|1000|||||4/month||凭卡加油每次立减10元，每月限4次
30|书香优待卡购书八五折|percent_off|15||book|0||||持书香优待卡购书八五折
";
