"""The complaint lexicon `bot/hear/triage.py` reads: mined and weighted by `bench/triage.py` on four airlines'
customer tweets, frozen here, and re-verified by every bench run.

A term's weight is added to the complaint logit when the term occurs (see `bot.hear.triage.terms`). Positive:
heard more from customers who need a human. Sorted from the most complaining to the least.
"""

LEXICON = """
call back +1.55|answer +1.54|not_again +1.52|suck +1.47|worse +1.39|only to +1.34|why can't +1.33|not_helpful +1.31
not_response +1.28|lines +1.27|not_care +1.26|just want +1.25|over an +1.25|switched +1.24|upset +1.24
almost <num> +1.23|load +1.23|not_working +1.22|attitude +1.21|not even +1.20|bs +1.19|hours later +1.19
human +1.19|complaints +1.18|why do +1.18|to let +1.16|communication +1.15|except +1.15|incompetence +1.15
badcustomerservice +1.14|lose +1.14|neveragain +1.14|not_give +1.14|they don't +1.14|fix +1.13|nothing +1.13
now <num> +1.13|screw +1.13|screwed +1.12|gone +1.09|my money +1.09|not_happy +1.09|not_our +1.09|now we +1.08
automated +1.07|crappy +1.07|not_email +1.07|not_gate +1.07|ruining +1.07|we can't +1.07|not_bags +1.06
not_helping +1.06|service is +1.06|why does +1.06|a human +1.05|alternate +1.05|badservice +1.05|if your +1.05
on me +1.05|suitcase +1.05|three +1.05|why +1.05|yes but +1.05|half +1.04|poor customer +1.04|still sitting +1.04
this airline +1.04|a real +1.03|bc +1.03|forced +1.03|my luggage +1.03|real +1.03|a better +1.02|all my +1.02
but can't +1.02|to rebook +1.02|unhelpful +1.02|a day +1.01|not_even +1.01|numbers +1.01|about this +1.00
delaying +1.00|find my +1.00|meeting +1.00|nightmare +1.00|phone to +1.00|refuse to +1.00|weren't +1.00|fuck +0.99
standing +0.99|until +0.99|<num> fee +0.98|<num> now +0.98|? been +0.98|answer the +0.98|clearly +0.98
gave up +0.98|nasty +0.98|never fly +0.98|to reach +0.98|unhappy +0.98|wait +0.98|clean +0.97|do now +0.97
impossible +0.97|time of +0.97|window +0.97|for another +0.96|lack +0.96|not_agent +0.96|not_because +0.96
own +0.96|phone ? +0.96|don't you +0.95|doors +0.95|experienced +0.95|hours +0.95|luggage +0.95|minutes on +0.95
miss my +0.95|no luggage +0.94|nothappy +0.94|pathetic +0.94|shameful +0.94|customers +0.93|hire +0.93
it online +0.93|more people +0.93|not_crew +0.93|not_help +0.93|not_like +0.93|not_notified +0.93|not_plane +0.93
sucks +0.93|unprofessional +0.93|wifi is +0.93|a half +0.92|been <num> +0.92|busy +0.92|damaged +0.92|doesn't +0.92
not_information +0.92|with no +0.92|your plane +0.92|<num> different +0.91|been waiting +0.91|compensate +0.91
i keep +0.91|lack of +0.91|not_ever +0.91|not_luggage +0.91|not_reason +0.91|on top +0.91|spent +0.91
the door +0.91|wtf +0.91|bags +0.90|hour <num> +0.90|now the +0.90|sat on +0.90|spent <num> +0.90|could do +0.89
hold with +0.89|not_answer +0.89|not_anymore +0.89|please fix +0.89|poor +0.89|to anyone +0.89|up at +0.89
waiting <num> +0.89|wasting +0.89|and don't +0.88|embarrassing +0.88|give us +0.88|hour flight +0.88|hr <num> +0.88
issues +0.88|not_take +0.88|not_through +0.88|not_thru +0.88|not_wifi +0.88|pay <num> +0.88|please get +0.88
somewhere +0.88|lies +0.87|not_fly +0.87|time with +0.87|two hours +0.87|you not +0.87|<num> sitting +0.86
answering +0.86|anyone on +0.86|because the +0.86|hold now +0.86|hour on +0.86|me miss +0.86|not happy +0.86
not_or +0.86|not_tell +0.86|service sucks +0.86|total +0.86|until <num> +0.86|for hours +0.85|forced to +0.85
hrs +0.85|i asked +0.85|minute wait +0.85|not_acceptable +0.85|one hour +0.85|to fix +0.85|do better +0.84
dollars +0.84|feels +0.84|fix this +0.84|not_answers +0.84|not_available +0.84|not_believe +0.84|not_them +0.84
queue +0.84|whose +0.84|a week +0.83|experience +0.83|hours in +0.83|no gate +0.83|not_fix +0.83|not_talk +0.83
solution +0.83|somebody +0.83|text +0.83|thanks but +0.83|when my +0.83|your gate +0.83|a supervisor +0.82
bags to +0.82|but when +0.82|come on +0.82|cut +0.82|feel +0.82|fuck you +0.82|hold and +0.82|in line +0.82
not_i'm +0.82|seems to +0.82|shame +0.82|this delay +0.82|time is +0.82|told i +0.82|you call +0.82|<num> hrs +0.81
bags ? +0.81|disgusting +0.81|don't like +0.81|not acceptable +0.81|not being +0.81|not_reach +0.81|delay and +0.80
everyone +0.80|has not +0.80|jetway +0.80|knew +0.80|make me +0.80|mia +0.80|never flying +0.80|no reason +0.80
put a +0.80|sense +0.80|waited +0.80|was no +0.80|business +0.79|could not +0.79|crap +0.79|keep getting +0.79
to charge +0.79|wait times +0.79|website +0.79|charged +0.78|delay +0.78|happening +0.78|hrs later +0.78
speak with +0.78|still can't +0.78|system is +0.78|your app +0.78|again +0.77|an update +0.77|and no +0.77
callback +0.77|for bags +0.77|going on +0.77|hours of +0.77|last time +0.77|saying +0.77|service line +0.77
since you +0.77|system +0.77|what a +0.77|why don't +0.77|would not +0.77|baggage to +0.76|last night +0.76
not_anything +0.76|on tarmac +0.76|really +0.76|told it +0.76|waited <num> +0.76|a gate +0.75|hours now +0.75
hr flight +0.75|later +0.75|my call +0.75|someone on +0.75|take <num> +0.75|then you +0.75|😡 +0.75|a row +0.74
because +0.74|but you +0.74|check my +0.74|doesn't help +0.74|don't care +0.74|fix the +0.74|hours ! +0.74
my bag +0.74|my hotel +0.74|ruined +0.74|tarmac for +0.74|to hold +0.74|with that +0.74|fly you +0.73|hour +0.73
luggage is +0.73|more +0.73|not_hotel +0.73|not_service +0.73|sleep +0.73|the way +0.73|zero +0.73|gives ? +0.72
hang up +0.72|hangs up +0.72|letter +0.72|line +0.72|no wifi +0.72|not_all +0.72|not_update +0.72|said +0.72
smh +0.72|the line +0.72|the problem +0.72|what gives +0.72|being on +0.71|how is +0.71|issue ? +0.71
later and +0.71|not good +0.71|not_customers +0.71|passenger +0.71|paying +0.71|seriously +0.71|the flight +0.71
to stay +0.71|ur +0.71|denied +0.70|is not +0.70|planned +0.70|problems +0.70|really ? +0.70|shit +0.70|stop +0.70
the runway +0.70|we should +0.70|after being +0.69|bag in +0.69|company +0.69|day <num> +0.69|no +0.69|not_an +0.69
phone for +0.69|someone about +0.69|ugh +0.69|because you +0.68|counter +0.68|joke +0.68|not be +0.68|speak +0.68
tried to +0.68|your +0.68|an automated +0.67|back on +0.67|counting +0.67|having +0.67|not_good +0.67|not_you +0.67
speak to +0.67|to mechanical +0.67|and your +0.66|bags are +0.66|change a +0.66|experience ever +0.66
hours for +0.66|kidding me +0.66|talk to +0.66|won't +0.66|and it +0.65|compensation +0.65|let us +0.65
min and +0.65|an agent +0.64|empty +0.64|late +0.64|not +0.64|phone system +0.64|should not +0.64|to answer +0.64
? no +0.63|all i +0.63|city +0.63|for almost +0.63|from a +0.63|hangs +0.63|so many +0.63|telling +0.63
waiting +0.63|at baggage +0.62|but they +0.62|days +0.62|double +0.62|food +0.62|inside +0.62|of customer +0.62
prices +0.62|your airline +0.62|calling +0.61|hrs to +0.61|of your +0.61|plane that +0.61|when you +0.61
you can't +0.61|back later +0.60|had <num> +0.60|kidding +0.60|lot of +0.60|means +0.60|real person +0.60
to talk +0.60|your customer +0.60|bag +0.59|call +0.59|hrs of +0.59|not_able +0.59|sitting +0.59|told to +0.59
and now +0.58|call me +0.58|hours on +0.57|is to +0.57|isn't +0.57|rebooked +0.57|than +0.57|the call +0.57
where my +0.57|you suck +0.57|<num> for +0.56|apology +0.56|is going +0.56|minutes and +0.56|tag +0.56|don't +0.55
hasn't +0.55|is just +0.55|person +0.55|respond to +0.55|been +0.54|ever +0.54|gate for +0.54|miss +0.54
not_check +0.54|not_rebook +0.54|seems +0.54|crazy +0.53|disconnected +0.53|exit +0.53|plane at +0.53|reach +0.53
was told +0.53|i've ever +0.52|mins +0.52|not_a +0.52|not_work +0.52|pay +0.52|to put +0.52|twice +0.52
hard to +0.51|in a +0.51|never +0.51|not_and +0.51|sitting on +0.51|a joke +0.50|anyone +0.50|at <num> +0.50
hold <num> +0.50|hotel +0.50|losing +0.50|still +0.50|supposed +0.50|supposed to +0.50|? ! +0.49|and the +0.49
being +0.49|can't find +0.49|hang +0.49|have my +0.49|lots +0.49|money +0.49|runway +0.49|<num> times +0.48
? and +0.48|aren't +0.48|find +0.48|handle +0.48|not_been +0.48|not_cool +0.48|not_much +0.48|phones +0.48
wasn't +0.48|wow +0.48|you're +0.48|have an +0.47|keeps +0.47|line for +0.47|lots of +0.47|not_of +0.47
not_up +0.47|not_where +0.47|people +0.47|row +0.47|still no +0.47|you've +0.47|? <num> +0.46|an hour +0.46
and was +0.46|but the +0.46|feedback +0.46|my time +0.46|never been +0.46|rebook +0.46|the fact +0.46
this has +0.46|to miss +0.46|<num> mins +0.45|and you +0.45|computer +0.45|flight has +0.45|not_me +0.45
which +0.45|while +0.45|another flight +0.44|get to +0.44|happened +0.44|hold +0.44|issue +0.44|not_longer +0.44
says +0.44|shouldn't +0.44|time i +0.44|will never +0.44|you +0.44|about my +0.43|customer +0.43|minute +0.43
not_it +0.43|over +0.43|<num> days +0.42|<num> minutes +0.42|after <num> +0.42|been sitting +0.42|calls +0.42
couldn't +0.42|due +0.42|i guess +0.42|it's been +0.42|not_going +0.42|not_on +0.42|to wait +0.42|us to +0.42
without +0.42|<num> hours +0.41|connection +0.41|funeral +0.41|not_sure +0.41|people on +0.41|still haven't +0.41
will not +0.41|you to +0.41|? what +0.40|can't even +0.40|min +0.40|myself +0.40|not_see +0.40|unable +0.40
unable to +0.40|another +0.39|have no +0.39|hung +0.39|i tried +0.39|just to +0.39|should be +0.39|the phone +0.39
this plane +0.39|yesterday +0.39|<num> hour +0.38|baggage +0.38|baggage claim +0.38|but +0.38|had to +0.38
most +0.38|nope +0.38|not_<num> +0.38|tarmac +0.38|to speak +0.38|wouldn't +0.38|not_with +0.37
your customers +0.37|didn't +0.36|due to +0.36|is a +0.36|their +0.36|tried +0.36|<num> people +0.35|asked +0.35
fact +0.35|have not +0.35|minutes +0.35|not_call +0.35|rep +0.35|up on +0.35|! ? +0.34|? ? +0.34|less +0.34
now +0.34|talk +0.34|yeah +0.34|? you +0.33|a plane +0.33|day +0.33|guess +0.33|how +0.33|i call +0.33
last <num> +0.33|not_for +0.33|that +0.33|waiting for +0.33|we don't +0.33|bag is +0.32|be +0.32|flight was +0.32
hung up +0.32|can't +0.31|different +0.31|haven't +0.31|is in +0.31|not_to +0.31|should +0.31|the last +0.31
about the +0.30|rather +0.30|sitting in +0.30|to pay +0.30|! ! +0.29|airline +0.29|then +0.29|up +0.29
we have +0.29|yet +0.29|agent +0.28|for <num> +0.28|hold for +0.28|in <num> +0.28|let me +0.28|not_flying +0.28
plane +0.28|trying +0.28|a different +0.27|mechanical +0.27|not_customer +0.27|not_do +0.27|not_get +0.27
not_this +0.27|other +0.27|sit +0.27|this +0.27|two +0.27|yr +0.27|<num> min +0.26|and +0.26|hr +0.26|them +0.26
when +0.26|you a +0.26|in your +0.25|there's +0.25|told +0.25|i've been +0.24|not_enough +0.24|waiting on +0.24
and not +0.23|customer service +0.23|over <num> +0.23|us <num> +0.23|and still +0.22|first class +0.22
not_your +0.22|place +0.22|<num> hr +0.21|gate +0.21|i was +0.21|service +0.21|want +0.21|at the +0.20|bad +0.20
my +0.20|of +0.20|we +0.20|were +0.20|even +0.19|someone +0.19|to get +0.19|at all +0.18|him +0.18
my connection +0.18|not_my +0.18|on the +0.18|our flight +0.18|for a +0.17|get a +0.17|is this +0.17
more than +0.17|not_at +0.17|one +0.17|to do +0.17|what +0.17|<num> am +0.16|about +0.16|i'm +0.16|least +0.16
they +0.16|flight is +0.15|that i +0.15|this is +0.15|time +0.15|claim +0.14|me to +0.14|flt +0.13|here +0.13
the gate +0.13|has +0.12|i can +0.12|of my +0.12|off +0.12|extra +0.11|phone +0.11|the plane +0.11|been on +0.10
for over +0.10|not_one +0.10|our +0.10|before +0.09|by +0.09|only +0.09|to check +0.09|trying to +0.09
you for +0.09|an +0.08|times +0.08|had +0.07|my flight +0.07|<num> +0.06|going +0.06|is +0.06|with +0.06
i have +0.05|much +0.05|to a +0.05|have +0.04|was +0.04|i'll +0.03|a +0.01|the -0.02|a <num> -0.04|at -0.04
for the -0.05|i've -0.05|not_the -0.05|a flight -0.06|online -0.06|<num> and -0.08|are -0.09|i -0.09
thanks for -0.09|to -0.09|not_let -0.10|want to -0.10|on -0.11|ago -0.12|please -0.13|to call -0.13|from -0.14
see -0.14|i will -0.15|not_that -0.16|w -0.16|has been -0.17|<num> <num> -0.19|in -0.19|of <num> -0.19|best -0.20
don't have -0.20|good -0.20|the tarmac -0.20|<num> th -0.21|he -0.21|hear -0.21|i can't -0.21|sent -0.21|th -0.21
! thanks -0.22|for me -0.22|s -0.22|am -0.23|what is -0.24|glad -0.25|you so -0.25|and <num> -0.26|can -0.26
so much -0.26|do -0.27|chance -0.28|well -0.28|happy -0.29|hopefully -0.29|a dm -0.30|job -0.30|thanks to -0.30
mileage -0.31|and a -0.32|appreciated -0.32|done -0.32|there any -0.32|they will -0.32|looking -0.33|lounge -0.33
care of -0.34|international -0.34|should i -0.34|the best -0.34|a great -0.35|know -0.35|the air -0.35
afternoon -0.36|class -0.36|la -0.36|if there -0.37|? why -0.38|big -0.38|helped -0.38|i left -0.38|will -0.38
if the -0.39|you help -0.39|appreciate the -0.40|be flying -0.40|for tomorrow -0.40|<num> from -0.41|flying -0.41
up ! -0.41|rt -0.42|st class -0.42|! -0.43|! thank -0.43|? thanks -0.43|i got -0.43|mine -0.43|we get -0.43
ice -0.44|please follow -0.44|do you -0.45|time in -0.45|forward to -0.46|get the -0.46|glad to -0.46|my day -0.46
thanks ! -0.46|any -0.47|change my -0.47|any chance -0.48|few -0.48|possible to -0.48|thx -0.48|world -0.48
is it -0.49|appreciate -0.50|not_need -0.50|service ! -0.50|follow -0.51|wanted to -0.51|<num> ? -0.52
can you -0.52|it ! -0.52|much ! -0.52|wondering -0.52|record -0.53|any way -0.54|it and -0.54|party -0.54
the us -0.54|awesome ! -0.55|easy -0.55|from <num> -0.55|saw -0.55|see you -0.55|dm you -0.56|great flight -0.56
tonight -0.56|winter -0.57|great -0.58|landing -0.58|tickets to -0.58|win -0.58|confirmation number -0.59
yes please -0.59|❤ -0.59|was able -0.60|dm -0.61|know if -0.61|followed -0.62|can i -0.63|dm sent -0.63
imagine -0.63|quickly -0.63|there a -0.63|today ! -0.64|will do -0.64|question -0.65|allowed -0.66|can get -0.66
fantastic -0.66|flights from -0.66|that's why -0.66|the end -0.66|your help -0.66|amazing ! -0.67|me please -0.67
south -0.67|i appreciate -0.69|it possible -0.69|possible -0.69|a few -0.71|left my -0.71|my favorite -0.71
wonderful -0.71|confirmation -0.72|you ! -0.72|definitely -0.73|i'd like -0.73|rock -0.73|kudos to -0.74|snow -0.74
y'all -0.74|awesome -0.75|excellent -0.75|flight at -0.75|photo -0.75|to flight -0.75|advisory -0.76|pass -0.76
the help -0.77|appreciate your -0.78|helpful -0.78|visit -0.78|thx ! -0.79|winners -0.81|following -0.82
got it -0.82|👍 -0.83|is there -0.84|tickets for -0.85|promo -0.86|sweet -0.86|love -0.88|hi -0.93|avgeek -0.95
🙏 -0.99|no worries -1.04|not_worries -1.04|kudos -1.08|<smile> -1.09|thanks -1.09|amazing -1.12|thank -1.18
thank you -1.19
"""
