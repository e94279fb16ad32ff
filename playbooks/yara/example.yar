// Example rules for evidence:yara (playbooks/deep-collect.yaml). Replace or extend with your own:
// `rules:` takes files and folders (every *.yar / *.yara in them).

rule cirt_example_lab_dropper
{
    meta:
        description = "The marker string of cirt's lab dropper (test fixture)"
    strings:
        $marker = "CIRT-LAB-DROPPER"
    condition:
        $marker
}

rule cirt_example_shell_downloader
{
    meta:
        description = "A shell script that fetches and runs a payload"
    strings:
        $sh = "#!/bin/sh"
        $fetch1 = "wget " ascii
        $fetch2 = "curl " ascii
        $run = "| sh" ascii
    condition:
        $sh and any of ($fetch*) and $run
}
