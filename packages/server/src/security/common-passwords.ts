/**
 * Passwords seen most often in public breach corpora (the well-known top lists), lower-cased. A policy
 * with `rejectCommon` refuses these, and every account refuses them regardless of policy (NIST SP 800-63B
 * 5.1.1.2: check against commonly used and compromised values).
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  `123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123 abc123 1234 password1
  iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein 654321 monkey 27653 1qaz2wsx
  123321 qwertyuiop superman asdfghjkl trustno1 welcome welcome1 admin admin123 administrator root toor
  passw0rd p@ssw0rd p@ssword password123 password12 password1234 pass1234 changeme changeme123 secret
  secret123 football baseball basketball soccer hockey master michael jennifer jordan hunter hunter2
  shadow ashley daniel charlie thomas robert matthew jessica andrew harley ranger buster batman starwars
  whatever freedom mustang access flower hello hello123 computer internet cookie summer winter spring
  autumn samsung google apple orange banana cheese chocolate pepper ginger maggie tigger jasmine
  qazwsx 1qazxsw2 q1w2e3r4 q1w2e3r4t5 1q2w3e 1q2w3e4r5t 12qwaszx asdf1234 asdfgh asdfghjkl1 zxcvbnm
  zxcvbn 7777777 666666 555555 888888 999999 112233 121212 123654 159753 147258369 987654321 0987654321
  11111111 00000000 12341234 aaaaaa abcdef abcdefg abcd1234 a1b2c3 a1b2c3d4 aa123456 qwe123 qweasd
  qweasdzxc login loveme lovely love123 iloveyou1 iloveu angel angels anthony joshua jordan23 michelle
  nicole killer pokemon naruto minecraft fortnite roblox pussy fuckyou fuckoff 696969 biteme mynoob
  letmein1 trustno1! welcome123 Welcome1 password! qwerty1 qwerty12 1234qwer test test123 test1234
  guest default user demo sample temp temp123 master123 super123 oracle mysql postgres ubuntu linux
  windows microsoft office365 company company123 spring2024 summer2024 winter2024 spring2025
  summer2025 autumn2025 winter2025 password2024 password2025 password2026 letmein123 iloveyou2
  sunshine1 princess1 football1 baseball1 charlie1 monkey1 dragon1 shadow1 michael1 superman1
  batman1 starwars1 whatever1 freedom1 trustme secure secure123 mypassword mypass 123abc abc12345`
    .split(/\s+/)
    .filter(Boolean)
    .map((p) => p.toLowerCase()),
)
